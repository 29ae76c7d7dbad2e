// The gRPC listener's transport with certificates made at test time by openssl: TLS and mTLS
// handshakes, a plaintext client or a client trusting another CA refused, client certificates
// required with mTLS, certificates rotated on disk served without a restart (existing
// connections keep theirs), TLS 1.1 refused, and the start refused without TLS unless plaintext
// is asked for, or with unusable certificate files; with --auth=tokens, a client certificate's
// URI SAN authenticates as the tenant the tokens file maps it to.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "qwenimage/v1/image_service.grpc.pb.h"
#include "service/auth/authenticator.h"
#include "service/server/gateway.h"
#include "service/store/sha256.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_certs.h"

namespace qwenimage::testing {
namespace {

constexpr char kClientSan[] = "spiffe://test/team-b";

class TlsTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    if (!OpensslAvailable()) {
      if (InCi()) FAIL() << "openssl is required in CI";
      GTEST_SKIP() << "SKIP: no openssl command";
    }
    pki_ = std::make_unique<TestPki>(data_dir_ + "_pki");
    ca_ = Must(pki_->MakeCa("ca"));
    server_ = Must(pki_->MakeServerCert(ca_, "server"));
    client_ = Must(pki_->MakeClientCert(ca_, "client", kClientSan));
    other_ca_ = Must(pki_->MakeCa("other_ca"));
    other_client_ = Must(pki_->MakeClientCert(other_ca_, "other_client", kClientSan));
    options_.transport.tls_cert = server_.cert;
    options_.transport.tls_key = server_.key;
    options_.transport.tls_reload_interval = absl::Seconds(1);
  }

  static CertFiles Must(absl::StatusOr<CertFiles> files) {
    EXPECT_TRUE(files.ok()) << files.status();
    return files.ok() ? *files : CertFiles{};
  }

  void StartTlsGateway() {
    absl::StatusOr<std::unique_ptr<server::Gateway>> gw = server::Gateway::Start(options_);
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = *std::move(gw);
  }

  // Credentials trusting `ca`, presenting `client` if given.
  static std::shared_ptr<grpc::ChannelCredentials> Tls(const CertFiles& ca,
                                                       const CertFiles* client = nullptr) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadWholeFile(ca.cert);
    if (client != nullptr) {
      o.pem_private_key = ReadWholeFile(client->key);
      o.pem_cert_chain = ReadWholeFile(client->cert);
    }
    return grpc::SslCredentials(o);
  }

  // A channel of its own (no subchannel shared with earlier channels), so that each one makes a
  // new connection and handshake.
  std::shared_ptr<grpc::Channel> NewChannel(std::shared_ptr<grpc::ChannelCredentials> creds,
                                            const std::string& host = "127.0.0.1") {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat(host, ":", gateway_->port()), std::move(creds),
                                     args);
  }

  static grpc::Status ListModels(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::ImageService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListModelsResponse reply;
    return stub->ListModels(&ctx, v1::ListModelsRequest(), &reply);
  }

  std::unique_ptr<TestPki> pki_;
  CertFiles ca_, server_, client_, other_ca_, other_client_;
};

TEST_F(TlsTest, ClientTrustingTheCaCompletesTheHandshakeByIpAndName) {
  StartTlsGateway();
  grpc::Status by_ip = ListModels(NewChannel(Tls(ca_)));
  EXPECT_TRUE(by_ip.ok()) << by_ip.error_message();
  grpc::Status by_name = ListModels(NewChannel(Tls(ca_), "localhost"));
  EXPECT_TRUE(by_name.ok()) << by_name.error_message();
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  StartTlsGateway();
  grpc::Status s = ListModels(NewChannel(grpc::InsecureChannelCredentials()));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  StartTlsGateway();
  grpc::Status s = ListModels(NewChannel(Tls(other_ca_)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsTest, MtlsRefusesACallWithoutAClientCertificate) {
  options_.transport.tls_client_ca = ca_.cert;
  StartTlsGateway();
  grpc::Status s = ListModels(NewChannel(Tls(ca_)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsTest, MtlsAcceptsAClientCertificateOfTheClientCa) {
  options_.transport.tls_client_ca = ca_.cert;
  StartTlsGateway();
  grpc::Status s = ListModels(NewChannel(Tls(ca_, &client_)));
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(TlsTest, MtlsRefusesAClientCertificateOfAnotherCa) {
  options_.transport.tls_client_ca = ca_.cert;
  StartTlsGateway();
  grpc::Status s = ListModels(NewChannel(Tls(ca_, &other_client_)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsTest, RotatedCertificateIsServedWithoutARestart) {
  StartTlsGateway();
  std::shared_ptr<grpc::Channel> before = NewChannel(Tls(ca_));
  ASSERT_TRUE(ListModels(before).ok());

  // The second CA's certificate and key replace the files, key first (as a Secret update may).
  const CertFiles ca2 = Must(pki_->MakeCa("ca2"));
  const CertFiles server2 = Must(pki_->MakeServerCert(ca2, "server2"));
  ASSERT_TRUE(ReplaceFile(server_.key, ReadWholeFile(server2.key)).ok());
  ASSERT_TRUE(ReplaceFile(server_.cert, ReadWholeFile(server2.cert)).ok());

  // Wait (bounded) until a new connection trusting only the second CA succeeds; each attempt is
  // a new channel, so it sees whatever certificate the listener serves by then.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  bool rotated = false;
  int attempts = 0;
  while (!rotated && absl::Now() < give_up) {
    ++attempts;
    rotated =
        NewChannel(Tls(ca2))->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  ASSERT_TRUE(rotated) << "no handshake with the rotated certificate after " << attempts
                       << " attempts";
  grpc::Status after = ListModels(NewChannel(Tls(ca2)));
  EXPECT_TRUE(after.ok()) << after.error_message();
  // New connections no longer get the old certificate; the connection made before keeps working.
  EXPECT_EQ(ListModels(NewChannel(Tls(ca_))).error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::Status kept = ListModels(before);
  EXPECT_TRUE(kept.ok()) << kept.error_message();
}

TEST_F(TlsTest, MtlsClientCertificateSanAuthenticatesAsItsTenantWithoutAToken) {
  constexpr char kTokenB[] = "tok-tls-team-b-5d2a9c";
  const CertFiles team_c = Must(pki_->MakeClientCert(ca_, "team_c", "spiffe://test/team-c"));
  const CertFiles nobody = Must(pki_->MakeClientCert(ca_, "nobody", "spiffe://test/nobody"));
  const std::string tokens = pki_->dir() + "/tokens.json";
  const std::string config = absl::StrCat(
      R"({"tokens": [{"sha256": ")", store::Sha256Hex(kTokenB),
      R"(", "tenant": "team-b", "name": "b-ci"}], "identities": [)",
      R"({"san": ")", kClientSan, R"(", "tenant": "team-b"}, )",
      R"({"san": "spiffe://test/team-c", "tenant": "team-c"}]})");
  ASSERT_TRUE(ReplaceFile(tokens, config).ok());
  options_.transport.tls_client_ca = ca_.cert;
  options_.auth_mode = auth::AuthMode::kTokens;
  options_.tokens_file = tokens;
  StartTlsGateway();
  auto call = [](const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    return ctx;
  };

  // The certificate alone (no authorization metadata) creates a task.
  auto as_b = v1::ImageService::NewStub(NewChannel(Tls(ca_, &client_)));
  v1::CreateTaskRequest create;
  *create.mutable_spec() = Spec("qwen-image-plus");
  v1::Task task;
  grpc::Status created = as_b->CreateTask(call("").get(), create, &task);
  ASSERT_TRUE(created.ok()) << created.error_message();

  // It is team-b's: team-b's bearer token (which decides alone) sees it, team-c's SAN does not.
  auto as_nobody = v1::ImageService::NewStub(NewChannel(Tls(ca_, &nobody)));
  v1::GetTaskRequest get;
  get.set_task_id(task.id());
  v1::Task got;
  grpc::Status by_token = as_nobody->GetTask(call(kTokenB).get(), get, &got);
  EXPECT_TRUE(by_token.ok()) << by_token.error_message();
  EXPECT_EQ(got.id(), task.id());
  auto as_c = v1::ImageService::NewStub(NewChannel(Tls(ca_, &team_c)));
  EXPECT_EQ(as_c->GetTask(call("").get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  // A verified certificate whose SAN the file does not map, without a token, is nobody.
  EXPECT_EQ(as_nobody->GetTask(call("").get(), get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// openssl s_client against the listener with only one protocol version enabled; its output in
// `*output`. Returns the exit code.
int HandshakeWith(const std::string& version_flag, int port, const std::string& ca,
                  const std::string& dir, std::string* output) {
  const std::string out = absl::StrCat(dir, "/s_client", version_flag, ".out");
  // SECLEVEL=0 lets this client offer TLS 1.1 at all (OpenSSL 3 refuses it by default), so a
  // failure is the server's refusal.
  const std::string command = absl::StrCat(
      "timeout 30 openssl s_client -connect 127.0.0.1:", port, " ", version_flag,
      " -cipher DEFAULT@SECLEVEL=0 -alpn h2 -CAfile '", ca, "' </dev/null >'", out, "' 2>&1");
  const int rc = std::system(command.c_str());
  *output = ReadWholeFile(out);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST_F(TlsTest, Tls11IsRefusedAndTls12And13AreAccepted) {
  StartTlsGateway();
  std::string out;
  EXPECT_NE(HandshakeWith("-tls1_1", gateway_->port(), ca_.cert, pki_->dir(), &out), 0) << out;
  // The client did send a TLS 1.1 hello (it would say "no protocols available" if it could not),
  // and the server closed the connection without a session ("unsupported protocol").
  EXPECT_EQ(out.find("no protocols available"), std::string::npos) << out;
  EXPECT_NE(out.find("Cipher is (NONE)"), std::string::npos) << out;
  EXPECT_EQ(HandshakeWith("-tls1_2", gateway_->port(), ca_.cert, pki_->dir(), &out), 0) << out;
  EXPECT_NE(out.find("Protocol  : TLSv1.2"), std::string::npos) << out;
  EXPECT_EQ(HandshakeWith("-tls1_3", gateway_->port(), ca_.cert, pki_->dir(), &out), 0) << out;
  EXPECT_NE(out.find("TLSv1.3"), std::string::npos) << out;
}

class TransportStartTest : public TlsTest {
 protected:
  absl::Status StartStatus() { return server::Gateway::Start(options_).status(); }
};

TEST_F(TransportStartTest, RefusesPlaintextUnlessInsecureOrSimulate) {
  options_.transport = {};
  options_.simulate = false;
  options_.api_key = "sk-transport-test";
  options_.dashscope_base_url = "http://127.0.0.1:1/api/v1";
  absl::Status s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("--tls_cert"), std::string::npos) << s;
  EXPECT_NE(s.message().find("--insecure"), std::string::npos) << s;

  options_.transport.insecure = true;
  options_.upstream_probe_interval = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<server::Gateway>> insecure = server::Gateway::Start(options_);
  ASSERT_TRUE(insecure.ok()) << insecure.status();
  gateway_ = *std::move(insecure);
  grpc::Status plain = ListModels(NewChannel(grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(plain.ok()) << plain.error_message();
}

TEST_F(TransportStartTest, RefusesInsecureTogetherWithTls) {
  options_.transport.insecure = true;
  EXPECT_EQ(StartStatus().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TransportStartTest, RefusesACertificateWithoutAKey) {
  options_.transport.tls_key.clear();
  absl::Status s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("--tls_key"), std::string::npos) << s;
}

TEST_F(TransportStartTest, RefusesAnUnreadableCertificate) {
  options_.transport.tls_cert = pki_->dir() + "/missing.pem";
  absl::Status s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("--tls_cert " + options_.transport.tls_cert + ": cannot read"),
            std::string::npos)
      << s;
}

TEST_F(TransportStartTest, RefusesAFileThatIsNotPem) {
  const std::string garbage = pki_->dir() + "/garbage.pem";
  ASSERT_TRUE(ReplaceFile(garbage, "not a certificate\n").ok());
  options_.transport.tls_cert = garbage;
  absl::Status s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("not a PEM certificate"), std::string::npos) << s;

  options_.transport.tls_cert = server_.cert;
  options_.transport.tls_key = garbage;
  s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("--tls_key " + garbage), std::string::npos) << s;

  options_.transport.tls_key = server_.key;
  options_.transport.tls_client_ca = garbage;
  s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("--tls_client_ca " + garbage), std::string::npos) << s;
}

TEST_F(TransportStartTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  options_.transport.tls_key = client_.key;
  absl::Status s = StartStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s;
  // The message names the files, never what is in them.
  EXPECT_EQ(s.message().find("PRIVATE KEY"), std::string::npos) << s;
}

TEST_F(TransportStartTest, RefusesAReloadIntervalBelowOneSecond) {
  options_.transport.tls_reload_interval = absl::Milliseconds(500);
  EXPECT_EQ(StartStatus().code(), absl::StatusCode::kInvalidArgument);
}

// The binary: the refusal reaches the operator, and the start-up log names the transport.
class TransportProcessTest : public TlsTest {
 protected:
  // Starts the gateway binary with `flags`; returns its exit code if it exits before listening,
  // else 0 after a SIGTERM. Its stderr is in log_.
  int RunGateway(const std::vector<std::string>& flags, const std::vector<std::string>& env) {
    log_path_ = absl::StrCat(data_dir_, "_process", ++runs_, ".log");
    std::vector<std::string> argv = {QWENIMAGE_GATEWAY_BINARY, "--listen=127.0.0.1:0",
                                     "--metrics_listen=", "--data_dir=" + data_dir_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    Subprocess gw(argv, env, log_path_);
    int code = 0;
    if (gw.WaitForNumberAfter("listening on port ") > 0) {
      gw.Signal(SIGTERM);
      gw.Wait();
    } else {
      code = gw.Wait();
    }
    log_ = ReadWholeFile(log_path_);
    return code;
  }

  std::string log_path_, log_;
  int runs_ = 0;
};

TEST_F(TransportProcessTest, RefusesToStartWithoutTlsOrInsecure) {
  EXPECT_NE(RunGateway({"--dashscope_base_url=http://127.0.0.1:1/api/v1"},
                       {"DASHSCOPE_API_KEY=sk-transport-test"}),
            0);
  EXPECT_NE(log_.find("--tls_cert"), std::string::npos) << log_;
  EXPECT_NE(log_.find("--insecure"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("sk-transport-test"), std::string::npos) << log_;
}

TEST_F(TransportProcessTest, StartupLogNamesTheTransport) {
  ASSERT_EQ(RunGateway({"--simulate", "--log_format=text"}, {}), 0) << log_;
  EXPECT_NE(log_.find(", plaintext (--insecure/--simulate) ("), std::string::npos) << log_;
  ASSERT_EQ(RunGateway({"--simulate", "--log_format=text", "--tls_cert=" + server_.cert,
                        "--tls_key=" + server_.key},
                       {}),
            0)
      << log_;
  EXPECT_NE(log_.find(", TLS ("), std::string::npos) << log_;
  ASSERT_EQ(RunGateway({"--simulate", "--log_format=text", "--tls_cert=" + server_.cert,
                        "--tls_key=" + server_.key, "--tls_client_ca=" + ca_.cert},
                       {}),
            0)
      << log_;
  EXPECT_NE(log_.find(", mTLS ("), std::string::npos) << log_;
}

}  // namespace
}  // namespace qwenimage::testing
