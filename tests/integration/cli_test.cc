// The qwen-image CLI binary run as a subprocess against an in-process gateway with the
// simulator: every command, --json parsed back, exit codes, files written and checksummed.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/auth/authenticator.h"
#include "service/simulator/images.h"
#include "service/store/sha256.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testing/sim_stats.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_certs.h"

namespace qwenimage::testing {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

// Width and height from a PNG's IHDR chunk (big-endian at bytes 16 and 20).
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  auto be32 = [&png](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(png[at + i]);
    return v;
  };
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return {0, 0};
  return {be32(16), be32(20)};
}

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;

  // Every stdout line parsed as one JSON document.
  std::vector<json> JsonLines() const {
    std::vector<json> docs;
    for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
      docs.push_back(json::parse(line));
    }
    return docs;
  }
};

class CliTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    work_dir_ = data_dir_ + "_cli";
    std::filesystem::remove_all(work_dir_);
    std::filesystem::create_directories(work_dir_);
  }

  std::string Server() const { return absl::StrCat("--server=127.0.0.1:", port_); }

  // Runs the CLI with `args` after --server, waits for it, and returns its output.
  CliResult Run(const std::vector<std::string>& args) {
    if (gateway_ != nullptr) port_ = gateway_->port();
    const std::string base = absl::StrCat(work_dir_, "/run", ++runs_);
    std::string command = absl::StrCat("exec ", ShellQuote(QWENIMAGE_CLI_BINARY), " ",
                                       ShellQuote(Server()));
    for (const std::string& a : args) absl::StrAppend(&command, " ", ShellQuote(a));
    absl::StrAppend(&command, " >", ShellQuote(base + ".out"), " 2>", ShellQuote(base + ".err"));
    Subprocess cli({"/bin/sh", "-c", command}, {}, base + ".log");
    CliResult result;
    result.exit_code = cli.Wait();
    result.out = ReadFile(base + ".out");
    result.err = ReadFile(base + ".err");
    return result;
  }

  // `generate --no_wait --json`: returns the new task's id.
  std::string CreateWithCli(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"generate", "--no_wait", "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> docs = r.JsonLines();
    EXPECT_EQ(docs.size(), 1u) << r.out;
    return docs.empty() ? "" : docs[0].value("id", "");
  }

  std::string work_dir_;
  int port_ = 0;
  int runs_ = 0;
};

TEST_F(CliTest, GenerateWritesPngOfRequestedSize) {
  StartGateway();
  const std::string out = work_dir_ + "/cat.png";
  CliResult r = Run({"generate", "--model=qwen-image-plus", "--prompt=a cat", "--size=1328*1328",
                     "--seed=7", "--watermark=false", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SUCCEEDED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(out), std::string::npos) << r.out;
  const std::string png = ReadFile(out);
  EXPECT_EQ(PngSize(png), std::make_pair(1328u, 1328u));
  EXPECT_NE(r.out.find(absl::StrCat(png.size(), " bytes")), std::string::npos) << r.out;
}

TEST_F(CliTest, GenerateSeveralImagesIntoDirectoryWithJson) {
  StartGateway();
  const std::string dir = work_dir_ + "/pngs";
  CliResult r = Run({"--json", "generate", "--model=qwen-image-2.0", "--prompt=two dogs",
                     "--size=512*768", "--n=2", "--out=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> files;
  for (const json& doc : r.JsonLines()) {
    if (doc.contains("path")) files.push_back(doc);
  }
  ASSERT_EQ(files.size(), 2u) << r.out;
  for (const json& f : files) {
    const std::string png = ReadFile(f["path"].get<std::string>());
    EXPECT_EQ(PngSize(png), std::make_pair(512u, 768u));
    EXPECT_EQ(store::Sha256Hex(png), f["sha256"].get<std::string>());
    EXPECT_EQ(f["path"].get<std::string>(),
              absl::StrCat(dir, "/", f["taskId"].get<std::string>(), "-",
                           f["index"].get<int>(), ".png"));
  }
}

// `edit`: a file is read and uploaded, a result is edited again by its qwenimage:// URI, and the
// task records both inputs by sha256 in order.
TEST_F(CliTest, EditUploadsAFileAndEditsAStoredResult) {
  StartGateway();
  const std::string input = work_dir_ + "/input.png";
  const std::string input_png = simulator::RenderPng(640, 480, 3);
  std::ofstream(input, std::ios::binary) << input_png;
  const std::string first_out = work_dir_ + "/first.png";
  CliResult first = Run({"edit", "--image=" + input, "--prompt=make image 1 blue",
                         "--out", first_out});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("SUCCEEDED"), std::string::npos) << first.out;
  const std::string first_png = ReadFile(first_out);
  ASSERT_FALSE(first_png.empty());

  const std::string first_id = CreateWithCli({"--model=qwen-image-2.0", "--prompt=a hat"});
  CliResult watched = Run({"watch", first_id});
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const std::string uri = absl::StrCat("qwenimage://tasks/", first_id, "/images/0");
  CliResult second = Run({"--json", "edit", "--model=qwen-image-2.0", "--image=" + input,
                          "--image=" + uri, "--prompt=put the hat of image 2 on image 1",
                          "--out=" + work_dir_ + "/second"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  std::string task_id;
  for (const json& doc : second.JsonLines()) {
    if (doc.contains("taskId")) task_id = doc["taskId"].get<std::string>();
  }
  ASSERT_FALSE(task_id.empty()) << second.out;
  CliResult get = Run({"--json", "get", task_id});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const json task = get.JsonLines().at(0);
  const json& inputs = task["spec"]["inputImages"];
  ASSERT_EQ(inputs.size(), 2u) << get.out;
  EXPECT_EQ(inputs[0]["sha256"], store::Sha256Hex(input_png));
  EXPECT_EQ(inputs[1]["taskImage"], uri);
}

TEST_F(CliTest, EditExitCodes) {
  StartGateway();
  // No --image, or a file that does not exist: usage errors before any call.
  EXPECT_EQ(Run({"edit", "--prompt=x"}).exit_code, 2);
  CliResult missing = Run({"edit", "--image=" + work_dir_ + "/nope.png", "--prompt=x"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot open the file"), std::string::npos) << missing.err;
  EXPECT_EQ(FetchSimStats(gateway_->upstream_base_url()).sync_generations, 0);
  // Four inputs: the server's INVALID_ARGUMENT, exit 2.
  const std::string input = work_dir_ + "/in.png";
  std::ofstream(input, std::ios::binary) << simulator::RenderPng(512, 512, 1);
  CliResult four = Run({"edit", "--image=" + input, "--image=" + input, "--image=" + input,
                        "--image=" + input, "--prompt=x"});
  EXPECT_EQ(four.exit_code, 2);
  EXPECT_NE(four.err.find("spec.input_images"), std::string::npos) << four.err;
  // An http URL is refused by the server, naming the field.
  CliResult http = Run({"edit", "--image=http://example.com/a.png", "--prompt=x"});
  EXPECT_EQ(http.exit_code, 2);
  EXPECT_NE(http.err.find("spec.input_images[0].url"), std::string::npos) << http.err;
}

TEST_F(CliTest, JsonOfGetListAndModelsParsesBack) {
  StartGateway();
  const std::string id = CreateWithCli({"--model=qwen-image-plus", "--prompt=a fox"});
  ASSERT_FALSE(id.empty());
  WatchToEnd(id);

  CliResult get = Run({"get", id, "--json"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  json task = json::parse(get.out);
  EXPECT_EQ(task["id"], id);
  EXPECT_EQ(task["state"], "TASK_STATE_SUCCEEDED");
  EXPECT_EQ(task["spec"]["model"], "qwen-image-plus");
  EXPECT_EQ(task["images"].size(), 1u);
  EXPECT_EQ(Run({"--tenant=someone-else", "get", id}).exit_code, 5);  // tenants are isolated

  CliResult list = Run({"--json", "list", "--state=succeeded,failed", "--model=qwen-image-plus"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json page = json::parse(list.out);
  ASSERT_EQ(page["tasks"].size(), 1u) << list.out;
  EXPECT_EQ(page["tasks"][0]["id"], id);

  CliResult none = Run({"--json", "list", "--state", "running"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_FALSE(json::parse(none.out).contains("tasks")) << none.out;

  CliResult models = Run({"models", "--json"});
  ASSERT_EQ(models.exit_code, 0) << models.err;
  json catalog = json::parse(models.out);
  bool found = false;
  for (const json& m : catalog["models"]) found |= m["name"] == "qwen-image-plus";
  EXPECT_TRUE(found) << models.out;

  // The text form shows the catalog's regions and default account limits (models.json).
  CliResult text = Run({"models"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  int checked = 0;
  for (absl::string_view line : absl::StrSplit(text.out, '\n')) {
    const std::string l(line);
    if (absl::StartsWith(line, "qwen-image-plus ")) {
      ++checked;
      EXPECT_THAT(l, HasSubstr("regions singapore,beijing"));
      EXPECT_THAT(l, HasSubstr("account limits 2 running 2/s"));
    } else if (absl::StartsWith(line, "qwen-image-edit-plus ")) {
      ++checked;
      EXPECT_THAT(l, HasSubstr("sides 512..2048  n 1..6  input images 1..3"));
    } else if (absl::StartsWith(line, "qwen-image-edit ")) {
      ++checked;
      EXPECT_THAT(l, HasSubstr("size from the input  n 1..1  input images 1..1"));
    }
  }
  EXPECT_EQ(checked, 3) << text.out;
}

TEST_F(CliTest, ListFollowsPagesWithAll) {
  StartGateway();
  for (int i = 0; i < 3; ++i) Create(Spec("qwen-image-plus", absl::StrCat("cat ", i)));
  CliResult r = Run({"--json", "list", "--page_size=2", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> pages = r.JsonLines();
  ASSERT_EQ(pages.size(), 2u) << r.out;
  EXPECT_EQ(pages[0]["tasks"].size() + pages[1]["tasks"].size(), 3u);
}

TEST_F(CliTest, ExitCodes) {
  StartGateway();
  EXPECT_EQ(Run({"get", "--no_such_flag", "x"}).exit_code, 2);
  EXPECT_EQ(Run({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Run({"generate", "--n=many", "--prompt=x"}).exit_code, 2);
  EXPECT_EQ(Run({"generate"}).exit_code, 2);  // --prompt is required
  EXPECT_EQ(Run({"--help"}).exit_code, 0);
  EXPECT_EQ(Run({"download", "--help"}).exit_code, 0);

  CliResult unknown_model = Run({"generate", "--model=qwen-image-9000", "--prompt=x"});
  EXPECT_EQ(unknown_model.exit_code, 2);
  EXPECT_NE(unknown_model.err.find("INVALID_ARGUMENT"), std::string::npos) << unknown_model.err;

  CliResult unknown_task = Run({"get", "no-such-task"});
  EXPECT_EQ(unknown_task.exit_code, 5);
  EXPECT_NE(unknown_task.err.find("qwen-image: NOT_FOUND: "), std::string::npos)
      << unknown_task.err;

  CliResult moderated =
      Run({"generate", "--model=qwen-image-plus", "--prompt=a cat [sim:moderation]"});
  EXPECT_EQ(moderated.exit_code, 3);
  EXPECT_NE(moderated.err.find("DataInspectionFailed"), std::string::npos) << moderated.err;

  gateway_.reset();  // the port now refuses connections
  stub_.reset();
  EXPECT_EQ(Run({"models"}).exit_code, 4);
  EXPECT_EQ(Run({"generate", "--prompt=x"}).exit_code, 4);
}

TEST_F(CliTest, NoWaitThenWatch) {
  StartGateway();
  const std::string id = CreateWithCli({"--model=qwen-image-plus", "--prompt=a boat"});
  ASSERT_FALSE(id.empty());
  CliResult watch = Run({"watch", id, "--json"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  std::vector<json> events = watch.JsonLines();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["task"]["state"], "TASK_STATE_SUCCEEDED");
  for (const json& e : events) EXPECT_EQ(e["task"]["id"], id);

  CliResult plain = Run({"watch", id});  // already finished: the snapshot, then the details
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find(id + "  SUCCEEDED"), std::string::npos) << plain.out;
}

TEST_F(CliTest, CancelEndsTheTaskAndWatchReportsIt) {
  options_.simulator.task_duration = {absl::Seconds(30), absl::Seconds(30)};
  StartGateway();
  const std::string id = CreateWithCli({"--model=qwen-image-plus", "--prompt=slow"});
  ASSERT_FALSE(id.empty());
  CliResult cancel = Run({"cancel", id, "--json"});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_EQ(json::parse(cancel.out)["state"], "TASK_STATE_CANCELLED");

  CliResult watch = Run({"watch", id});
  EXPECT_EQ(watch.exit_code, 3);
  EXPECT_NE(watch.out.find("CANCELLED"), std::string::npos) << watch.out;
  EXPECT_EQ(Run({"cancel", "no-such-task"}).exit_code, 5);
}

TEST_F(CliTest, DownloadVerifiesAndWritesImages) {
  StartGateway();
  const std::string id =
      CreateWithCli({"--model=qwen-image-2.0", "--prompt=a tree", "--size=512*512", "--n=2"});
  ASSERT_FALSE(id.empty());
  std::vector<v1::Task> events = WatchToEnd(id);
  ASSERT_FALSE(events.empty());
  const v1::Task& done = events.back();
  ASSERT_EQ(done.images_size(), 2);

  const std::string one = work_dir_ + "/one.png";
  CliResult single = Run({"download", id, "--index=1", "--out=" + one});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_EQ(ReadFile(one), ReadImage(id, 1));
  EXPECT_EQ(store::Sha256Hex(ReadFile(one)), done.images(1).sha256());
  EXPECT_NE(single.out.find(done.images(1).sha256()), std::string::npos) << single.out;

  const std::string dir = work_dir_ + "/all";
  CliResult all = Run({"download", id, "--out", dir});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  for (const v1::Image& image : done.images()) {
    const std::string png = ReadFile(absl::StrCat(dir, "/", id, "-", image.index(), ".png"));
    EXPECT_EQ(store::Sha256Hex(png), image.sha256());
  }

  EXPECT_EQ(Run({"download", id, "--index=7"}).exit_code, 5);
  EXPECT_EQ(Run({"download", "no-such-task"}).exit_code, 5);
}

TEST_F(CliTest, TlsCaMakesTheChannelTls) {
  if (!OpensslAvailable()) {
    if (InCi()) FAIL() << "openssl is required in CI";
    GTEST_SKIP() << "SKIP: no openssl command";
  }
  TestPki pki(work_dir_ + "/pki");
  absl::StatusOr<CertFiles> ca = pki.MakeCa("ca");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<CertFiles> server = pki.MakeServerCert(*ca, "server");
  ASSERT_TRUE(server.ok()) << server.status();
  options_.transport.tls_cert = server->cert;
  options_.transport.tls_key = server->key;
  StartGateway();

  CliResult tls = Run({"--tls_ca=" + ca->cert, "models"});
  EXPECT_EQ(tls.exit_code, 0) << tls.err;
  EXPECT_NE(tls.out.find("qwen-image-plus"), std::string::npos) << tls.out;
  EXPECT_EQ(Run({"models", "--timeout=5s"}).exit_code, 4);  // plaintext to a TLS listener
  CliResult missing = Run({"--tls_ca=" + work_dir_ + "/no-ca.pem", "models"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--tls_ca " + work_dir_ + "/no-ca.pem: cannot read"),
            std::string::npos)
      << missing.err;
}

TEST_F(CliTest, TokenFlagsAuthenticateAndTheTokenIsNeverPrinted) {
  const std::string token = "qwt-cli-secret-0123456789";
  const std::string other_token = "qwt-cli-other-9876543210";
  const std::string tokens = work_dir_ + "/tokens.json";
  std::ofstream(tokens) << R"({"tokens": [{"sha256": ")" << store::Sha256Hex(token)
                        << R"(", "tenant": "cli-a"}, {"sha256": ")"
                        << store::Sha256Hex(other_token) << R"(", "tenant": "cli-b"}]})";
  options_.auth_mode = auth::AuthMode::kTokens;
  options_.tokens_file = tokens;
  StartGateway();
  const std::string file = work_dir_ + "/token";
  std::ofstream(file) << token << "\n";
  // A trailing newline is dropped: the file's token authenticates as cli-a, whose task it is.
  CliResult from_file = Run({"--token_file=" + file, "--json", "generate", "--no_wait",
                             "--model=qwen-image-plus", "--prompt=a cat"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  const std::string id = json::parse(from_file.out).value("id", "");
  CliResult same = Run({"--token=" + token, "get", id});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(Run({"--token=" + other_token, "get", id}).exit_code, 5);  // cli-b's view
  CliResult none = Run({"get", id});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("UNAUTHENTICATED"), std::string::npos) << none.err;

  CliResult both = Run({"--token=" + token, "--token_file=" + file, "models"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
  CliResult missing = Run({"--token_file=" + work_dir_ + "/no-token", "models"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--token_file " + work_dir_ + "/no-token: cannot read"),
            std::string::npos)
      << missing.err;
  const std::string bad_file = work_dir_ + "/bad-token";
  std::ofstream(bad_file) << token << " and more\n";
  CliResult bad = Run({"--token_file=" + bad_file, "models"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("printable ASCII"), std::string::npos) << bad.err;
  for (const CliResult* r : {&from_file, &same, &both, &missing, &bad}) {
    EXPECT_EQ(r->out.find(token), std::string::npos) << r->out;
    EXPECT_EQ(r->err.find(token), std::string::npos) << r->err;
  }
}

}  // namespace
}  // namespace qwenimage::testing
