#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (run from anywhere; idempotent).

JSON seeds are the reply shapes of ../shared/dashscope-api.md §4-§6 ("doc_*") and replies recorded
from dashscope-sim ("sim_*", see README.md); binary seeds (length-prefixed fuzzer inputs,
serialized protos, PNGs) are built here from the same shapes.
"""
import base64
import hashlib
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


OSS = "https://dashscope-7c2c.oss-cn-shanghai.aliyuncs.com/7d/93/20260611/d23adf3d/x42.png?Expires=1781&OSSAccessKeyId=LTAI&Signature=abc%3D"
SIM_URL = "http://127.0.0.1:18389/images/1024x1024/f3c18572bab84cf5.png?Expires=1796261124&OSSAccessKeyId=sim&Signature=c9a0ce4ec5321ff3"

# --- 2xx reply parsers -------------------------------------------------------------------------
ENVELOPE = '{"request_id":"a1c0561c-1dfe-98a6-a62f-983577b8bc5e","code":"InvalidApiKey","message":"Invalid API-key provided."}'
THROTTLED = '{"request_id":"5444a586-f6e6-06f5-5b64-9cd278feab11","code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later."}'
for target in ["generation_response", "create_task_response", "task_response",
               "task_list_response", "cancel_response"]:
    put(target, "doc_error_envelope.json", ENVELOPE)
    put(target, "truncated.json", '{"output":{"task_status":"PEND')

put("generation_response", "doc_max.json",
    '{"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":'
    '[{"image":"' + OSS + '"}]}}],"task_metric":{"TOTAL":1,"SUCCEEDED":1,"FAILED":0}},'
    '"usage":{"width":1664,"height":928,"image_count":1},"request_id":"5795d646-7395-91d2-85d7-34d8b99a3d8d"}')
put("generation_response", "sim_2_0_n2.json",
    '{"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":[{"image":"'
    + SIM_URL + '"},{"image":"' + SIM_URL.replace("cf5", "b42") + '"}]}}]},'
    '"usage":{"width":1024,"height":1024,"image_count":2},"request_id":"73055bc5-f73b-3299-56cb-e65a4782f8ae"}')
put("generation_response", "sim_malformed.json",
    '{"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":[{"image":"http://127.0.0.1:18389/images/1664x928/fff99546e680909d.png?Expires=1796261127&OSSAccessKeyId=s')
put("generation_response", "no_image.json",
    '{"output":{"choices":[{"message":{"role":"assistant","content":[{"text":"sorry"}]}}]},"usage":{"image_count":0},"request_id":"r"}')

put("create_task_response", "doc_pending.json",
    '{"output":{"task_status":"PENDING","task_id":"0385dc79-5ff8-4d82-bcb6-xxxxxx"},"request_id":"4909100c-7b5a-9f92-bfe5-xxxxxx"}')
put("create_task_response", "sim_pending.json",
    '{"output":{"task_status":"PENDING","task_id":"b9a8d9b4-85fd-88a8-4b6a-415a1f078750"},"request_id":"915babd5-f8f2-1a82-15e1-3807a056bb0e"}')
put("create_task_response", "no_task_id.json", '{"output":{"task_status":"PENDING"},"request_id":"r"}')

TIMES = '"submit_time":"2025-09-09 11:38:54.741","scheduled_time":"2025-09-09 11:38:54.781"'
put("task_response", "doc_succeeded.json",
    '{"request_id":"7434edb2-3cba-44e6-a772-xxxxxx","output":{"task_id":"878f591e-ebdf-4e45-97eb-xxxxxx",'
    '"task_status":"SUCCEEDED",' + TIMES + ',"end_time":"2025-09-09 11:39:19.484","results":[{"orig_prompt":"a cat",'
    '"actual_prompt":"a fluffy cat","url":"https://dashscope-result-sz.oss-cn-shenzhen.aliyuncs.com/1.png?Expires=1"}],'
    '"task_metrics":{"TOTAL":1,"SUCCEEDED":1,"FAILED":0}},"usage":{"image_count":1}}')
put("task_response", "doc_partial.json",
    '{"request_id":"r","output":{"task_id":"t","task_status":"SUCCEEDED",' + TIMES + ',"end_time":"2025-09-09 11:39:19.484",'
    '"results":[{"code":"DataInspectionFailed","message":"Output data may contain inappropriate content."},'
    '{"orig_prompt":"p","url":"' + OSS + '"}],"task_metrics":{"TOTAL":2,"SUCCEEDED":1,"FAILED":1}},"usage":{"image_count":1}}')
put("task_response", "doc_failed.json",
    '{"request_id":"r","output":{"task_id":"t","task_status":"FAILED","code":"InvalidParameter","message":"bad",'
    '"task_metrics":{"TOTAL":4,"SUCCEEDED":0,"FAILED":4}}}')
put("task_response", "doc_unknown.json", '{"request_id":"r","output":{"task_id":"1111","task_status":"UNKNOWN"}}')
put("task_response", "doc_canceled.json", '{"request_id":"r","output":{"task_id":"t","task_status":"CANCELED","submit_time":"2025-09-09 11:38:54.741"}}')
put("task_response", "doc_suspended.json", '{"request_id":"r","output":{"task_id":"t","task_status":"SUSPENDED"}}')
put("task_response", "sim_running.json",
    '{"request_id":"064029ba-1856-31fc-aac1-3fd56616cd68","output":{"task_id":"b9a8d9b4-85fd-88a8-4b6a-415a1f078750",'
    '"task_status":"RUNNING","submit_time":"2026-12-02 09:25:26.209","scheduled_time":"2026-12-02 09:25:26.246",'
    '"task_metrics":{"TOTAL":1,"SUCCEEDED":0,"FAILED":0}}}')
put("task_response", "sim_succeeded.json",
    '{"request_id":"3dfd9502-fc1d-ee1e-82ce-d98b228407e0","output":{"task_id":"b9a8d9b4-85fd-88a8-4b6a-415a1f078750",'
    '"task_status":"SUCCEEDED","submit_time":"2026-12-02 09:25:26.209","scheduled_time":"2026-12-02 09:25:26.246",'
    '"end_time":"2026-12-02 09:25:27.248","results":[{"orig_prompt":"a dog","actual_prompt":"a dog The image is richly '
    'detailed.","url":"' + SIM_URL + '"}],"task_metrics":{"TOTAL":1,"SUCCEEDED":1,"FAILED":0}},"usage":{"image_count":1}}')
put("task_response", "sim_failed_timeout.json",
    '{"request_id":"96b680e5-d549-ed8f-4b20-75ca515f9aed","output":{"task_id":"3ed38bcf-e898-5e85-9892-5f0d6cdbd967",'
    '"task_status":"FAILED","code":"InternalError.Timeout","message":"An internal timeout error has occured during '
    'execution.","submit_time":"2026-12-02 09:25:26.229","scheduled_time":"2026-12-02 09:25:26.270",'
    '"end_time":"2026-12-02 09:25:27.268","task_metrics":{"TOTAL":1,"SUCCEEDED":0,"FAILED":1}}}')

ENTRY = ('{{"api_key_id":"10345","caller_parent_id":"1716780965237866","caller_uid":"1716780965237866",'
         '"gmt_create":1796174726246,"start_time":1796174726283,{end}"model_name":"qwen-image","region":"ap-southeast-1",'
         '"request_id":"07e30881-2c4b-67ca-06ac-4e65f6964b12","status":"{status}","task_id":"a3ad7d5c-5315-9a0b-f1b6-8c5541205083",'
         '"user_api_unique_key":"apikey:v1:aigc:text2image:image-synthesis:qwen-image"}}')
put("task_list_response", "sim_two.json",
    '{"total":2,"total_page":1,"page_no":1,"page_size":10,"request_id":"0c721090-9c33-80a2-5daa-3af198c0ba44","data":['
    + ENTRY.format(end='"end_time":1796174727285,', status="FAILED") + ","
    + ENTRY.format(end="", status="RUNNING") + "]}")
put("task_list_response", "sim_empty.json",
    '{"total":0,"total_page":0,"page_no":1,"page_size":10,"request_id":"528106f4-9934-7290-975d-ecc380719c8b","data":[]}')
put("task_list_response", "no_data.json", '{"total":0,"total_page":0,"page_no":3,"page_size":10,"request_id":"r","data":null}')

put("cancel_response", "doc_ok.json", '{"request_id":"45ac7f13-ea1c-4c36-9ad5-xxxxxx"}')

# --- non-2xx bodies: HTTP status (2 bytes), flags (call kind = flags % 3, 4: set Retry-After),
# Retry-After ms (8 bytes), body
def error_seed(status, flags, body, retry_ms=3000):
    return struct.pack(">HBQ", status, flags, retry_ms) + body.encode()

NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
             "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
for i, (status, code, message) in enumerate([
        (400, "InvalidParameter", "The size '100*100' is not supported."),
        (400, "DataInspectionFailed", "Input data may contain inappropriate content."),
        (400, "Arrearage", "Access denied, please make sure your account is in good standing."),
        (400, "UnsupportedOperation", "Failed to cancel the task, please confirm if the task is in PENDING status."),
        (401, "InvalidApiKey", "Invalid API-key provided."),
        (403, "AccessDenied", "current user api does not support synchronous calls"),
        (404, "ModelNotFound", "Model not exist."),
        (429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
        (429, "PrepaidBillOverdue", "bill overdue"),
        (500, "InternalError.Algo.InvalidParameter", "algo"),
        (500, "InternalError", "An internal error has occured, please try again later or contact service support."),
        (503, "ModelUnavailable", "Service temporarily unavailable")]):
    body = '{"request_id":"a1c0561c-1dfe-98a6-a62f-983577b8bc5e","code":"%s","message":"%s"}' % (code, message)
    put("error_response", "doc_%d_%s" % (status, code.replace(".", "_")), error_seed(status, i % 6 + (4 if i % 2 else 0), body))
put("error_response", "sim_502_nginx", error_seed(502, 1, NGINX_502))
put("error_response", "empty_504", error_seed(504, 3, ""))
put("error_response", "foreign_401", error_seed(401, 1, "Unauthorized"))

# --- Retry-After: now (8 bytes), date offset (8 bytes), header value ------------------------------
NOW = 1781000000
for name, offset, value in [("seconds", 0, "3"), ("spaces", 10, " 120 "), ("negative", 5, "-1"),
                            ("imf_date", 60, "Sun, 06 Nov 1994 08:49:37 GMT"),
                            ("future_date", 86400, "Wed, 02 Dec 2026 09:25:39 GMT"),
                            ("rfc850", 1, "Sunday, 06-Nov-94 08:49:37 GMT"), ("huge", 0, "99999999999999999999")]:
    put("retry_after", name, struct.pack(">QQ", NOW, offset + 86400 * 400) + value.encode())

# --- download URLs: policy byte, URL -------------------------------------------------------------
for i, url in enumerate([OSS, SIM_URL, "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/a.png",
                         "https://x.aliyuncs.com@evil.net/", "https://evilaliyuncs.com/a.png",
                         "https://x.aliyuncs.com:8443/a.png", "http://[::1]:8080/a.png",
                         "https://0x7f.1/a.png", "https://[fe80::1%25eth0]/", "https://X.ALIYUNCS.COM./a"]):
    put("download_policy", "url_%02d" % i, bytes([i % 4]) + url.encode())

# --- protobuf wire format for the api targets ------------------------------------------------------
def varint(n):
    out = b""
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value

def spec(model, prompt, size=None, n=None, seed=None, negative=None, extend=None, watermark=None):
    s = field(1, model) + field(2, prompt)
    if negative is not None: s += field(3, negative)
    if size is not None: s += field(4, size)
    if n is not None: s += field(5, n)
    if seed is not None: s += field(6, seed)
    if extend is not None: s += field(7, int(extend))
    if watermark is not None: s += field(8, int(watermark))
    return s

CREATES = {
    "create_plus": field(1, "3f2b8c1e-0d4a-4c2e-9a51-7d0c2f4b9e10") + field(2, spec("qwen-image-plus", "a cat", "1664*928", 1, 42)),
    "create_2_0": field(2, spec("qwen-image-2.0-pro", "\xe4\xb8\x80\xe5\x8f\xaa\xe7\x8c\xab", "2048*2048", 6, 7, "blurry", True, False)),
    "create_bad_size": field(2, spec("qwen-image-max", "x", "01664*0928", 2, -1)),
    "create_no_spec": field(1, "req-1"),
    "create_bad_utf8": field(2, field(1, "qwen-image") + field(2, b"\xff\xfe cat")),
}
LISTS = {
    "list_states": field(1, 20) + field(3, b"\x01\x02\x03") + field(4, "qwen-image-plus")
    + field(5, field(1, 1781000000)) + field(6, field(1, 1781086400) + field(2, 5)),
    "list_token": field(2, base64.urlsafe_b64encode(b"\x01" + struct.pack(">Q", 1781000000000000) + b"\0" * 8 + b"task-1").decode().rstrip("=")),
    "list_negative": field(1, -5) + field(3, 9),
}
for i, (name, body) in enumerate(CREATES.items()):
    put("request_codec", name, bytes([1, 3]) + body)
    put("request_validation", name, bytes([0]) + body)
for name, body in LISTS.items():
    put("request_codec", name, bytes([4, 2]) + body)
    put("request_validation", name, bytes([1, len("team-a")]) + b"team-a" + body)
put("request_codec", "get_task", bytes([3, 0]) + field(1, "tsk_0123456789abcdef"))
put("request_codec", "read_image", bytes([9, 1]) + field(1, "tsk_1") + field(2, 2))
put("request_codec", "watch_bad_utf8", bytes([7, 5]) + field(1, b"\xc3\x28"))
put("request_codec", "list_models_empty", bytes([8, 0]))
put("request_validation", "task_id", bytes([2]) + b"tsk_0123456789abcdef")

# --- page tokens: fingerprint (length byte + bytes), mode, token | two queries + id -----------------
def token(micros, fingerprint, task_id):
    raw = b"\x01" + struct.pack(">Q", micros) + hashlib.sha256(fingerprint).digest()[:8] + task_id
    return base64.urlsafe_b64encode(raw).rstrip(b"=")

FP = b"6:team-a|2,3|15:qwen-image-plus|-|-"
put("page_token", "valid", bytes([len(FP)]) + FP + b"\0" + token(1781000000000000, FP, b"tsk_0123456789abcdef"))
put("page_token", "padded", bytes([len(FP)]) + FP + b"\0" + token(0, FP, b"t") + b"==")
put("page_token", "other_filter", bytes([3]) + b"abc" + b"\0" + token(5, FP, b"tsk_1"))
put("page_token", "not_base64", bytes([0]) + b"\0" + b"!!!not a token")
def query(tenant, states, model, bounds, after, before, limit):
    return (bytes([len(tenant)]) + tenant + bytes([states, len(model)]) + model + bytes([bounds])
            + struct.pack(">QQ", after, before) + bytes([limit]))
put("page_token", "queries", bytes([0, 1]) + query(b"team-a", 0b1100, b"qwen-image", 3, 1 << 40, 1 << 41, 50)
    + query(b"team-a", 0b1100 | 0x80, b"qwen-image", 3, 1 << 40, 1 << 41, 10) + b"tsk_1")
put("page_token", "queries_swapped_bounds", bytes([0, 1]) + query(b"t", 0, b"", 1, 1 << 40, 0, 0)
    + query(b"t", 0, b"", 2, 0, 1 << 40, 0) + b"x")

# --- simulator create bodies: endpoint byte, random seed (8 bytes), body --------------------------
def sim_seed(endpoint, body):
    return bytes([endpoint]) + struct.pack(">Q", 123456) + body.encode()

put("simulator_request", "doc_sync", sim_seed(0,
    '{"model":"qwen-image-2.0-pro","input":{"messages":[{"role":"user","content":[{"text":"a cat"}]}]},'
    '"parameters":{"negative_prompt":"","size":"2048*2048","n":1,"prompt_extend":true,"watermark":false,"seed":42}}'))
put("simulator_request", "doc_async", sim_seed(1,
    '{"model":"qwen-image-plus","input":{"prompt":"a dog","negative_prompt":"blur"},'
    '"parameters":{"negative_prompt":"","size":"1664*928","n":1,"prompt_extend":true,"watermark":false,"seed":42}}'))
put("simulator_request", "sync_edit_images", sim_seed(0,
    '{"model":"qwen-image-2.0","input":{"messages":[{"role":"user","content":[{"image":"https://x/a.png"},{"text":"p [sim:partial=1]"}]}]},'
    '"parameters":{"size":"1024*1024","n":6}}'))
put("simulator_request", "async_sync_only", sim_seed(1, '{"model":"qwen-image-max","input":{"prompt":"x"}}'))
put("simulator_request", "bad_role", sim_seed(0, '{"model":"qwen-image-max","input":{"messages":[{"role":"assistant","content":[]}]}}'))
put("simulator_request", "legacy_size", sim_seed(1, '{"model":"qwen-image","input":{"prompt":"x"},"parameters":{"size":"1472*1140","seed":2147483647}}'))
put("simulator_request", "not_json", sim_seed(0, "model=qwen-image"))

# --- PNGs: small images of every colour type, one interlaced, one with an ancillary chunk -----------
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

def png(width, height, depth, color, interlace=0, extra=b"", palette=None):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    rowbytes = (width * channels * depth + 7) // 8
    if interlace:
        raw = b""  # Adam7: rows of each non-empty pass
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            w = (width - x0 + dx - 1) // dx if width > x0 else 0
            h = (height - y0 + dy - 1) // dy if height > y0 else 0
            if w and h:
                raw += (b"\0" + bytes((w * channels * depth + 7) // 8)) * h
    else:
        raw = b"".join(b"\x01" + bytes((i * 7 + y) & 0xFF for i in range(rowbytes)) for y in range(height))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
    if palette is not None:
        out += chunk(b"PLTE", palette)
    return out + extra + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")

put("png", "rgb8_4x3.png", png(4, 3, 8, 2))
put("png", "rgba16_2x2.png", png(2, 2, 16, 6))
put("png", "gray1_9x2.png", png(9, 2, 1, 0))
put("png", "graya8_3x3.png", png(3, 3, 8, 4, extra=chunk(b"tEXt", b"Comment\0sim")))
put("png", "palette4_5x5.png", png(5, 5, 4, 3, palette=bytes(range(48))))
put("png", "interlaced_9x9.png", png(9, 9, 8, 2, interlace=1))
put("png", "trailing_bytes.png", png(1, 1, 8, 0) + b"extra")
put("png", "too_large_ihdr.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))

# --- S3 XML replies (S3ImageStore): ListObjectsV2 pages as s3rver and AWS write them, an error -
put("s3_xml", 'aws_truncated_keys.xml',
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>tasks/t/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken><Contents><Key>tasks/t/0.png</Key><LastModified>2026-12-02T03:23:13.000Z</LastModified><ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key><![CDATA[tasks/t/1.png]]></Key><Owner/></Contents></ListBucketResult>')
put("s3_xml", 'error.xml',
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><RequestId>5F0B&#x41;&#65;</RequestId><!-- c --></Error>')
put("s3_xml", 's3rver_common_prefixes.xml',
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://doc.s3.amazonaws.com/2006-03-01/"><Name>bkt</Name><Prefix>tasks/</Prefix><KeyCount>0</KeyCount><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>tasks/a/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>tasks/b/</Prefix></CommonPrefixes></ListBucketResult>')

# --- token_file: a mode byte (even: a tokens file; odd: an authorization value), then the bytes --
TOKEN_HASH = hashlib.sha256(b"fuzz-token-1f2e").hexdigest()
OTHER_HASH = hashlib.sha256(b"other-token").hexdigest()
put("token_file", "contract_example.json", b"\0" + (
    '{"tokens": [{"sha256": "' + TOKEN_HASH + '", "tenant": "team-a", "name": "ci-2026-11",'
    ' "quotas": {"max_queued": 100, "max_running": 2, "creates_per_minute": 60,'
    ' "images_per_day": 5000}}],'
    ' "identities": [{"san": "spiffe://example.org/team-b", "tenant": "team-b", "quotas": {}}]}').encode())
put("token_file", "two_tokens.json", b"\0" + (
    '{"tokens": [{"sha256": "' + TOKEN_HASH + '", "tenant": "a"}, {"sha256": "' + OTHER_HASH
    + '", "tenant": "b:c.d_e-f", "quotas": {"images_per_day": 0}}]}').encode())
put("token_file", "duplicate_hash.json", b"\0" + (
    '{"tokens": [{"sha256": "' + TOKEN_HASH + '", "tenant": "a"}, {"sha256": "' + TOKEN_HASH
    + '", "tenant": "b"}]}').encode())
put("token_file", "bad_quota.json", b"\0" + (
    '{"tokens": [{"sha256": "' + TOKEN_HASH + '", "tenant": "a", "quotas": {"max_running": -1}}]}').encode())
put("token_file", "identities_only.json",
    b"\0" + b'{"identities": [{"san": "client.example.org", "tenant": "c", "name": "dns"}]}')
put("token_file", "unknown_key.json", b"\0" + b'{"tokens": [], "extra": true}')
put("token_file", "empty.json", b"\0{}")
put("token_file", "auth_right.txt", b"\1Bearer fuzz-token-1f2e")
put("token_file", "auth_lower_spaces.txt", b"\1bearer   fuzz-token-1f2e")
put("token_file", "auth_wrong.txt", b"\1Bearer other-token-x")
put("token_file", "auth_basic.txt", b"\1Basic ZnV6ejp0b2tlbg==")

# --- image_header: the first bytes of every format ReadImageHeader sniffs, sides distinct ---------
def jpeg_segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

def jpeg_sof(marker, width, height):
    return jpeg_segment(marker, struct.pack(">BHHB", 8, height, width, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]))

def tiff(order, entries, ifd_offset=8):
    out = (b"II*\0" if order == "<" else b"MM\0*") + struct.pack(order + "I", ifd_offset) + bytes(ifd_offset - 8)
    out += struct.pack(order + "H", len(entries))
    for tag, kind, value in entries:  # a SHORT is left-justified in its 4 bytes
        out += struct.pack(order + "HHI", tag, kind, 1) + (struct.pack(order + "HH", value, 0) if kind == 3 else struct.pack(order + "I", value))
    return out + struct.pack(order + "I", 0)

def riff(fourcc, payload):
    return b"RIFF" + struct.pack("<I", 12 + len(payload)) + b"WEBP" + fourcc + struct.pack("<I", len(payload)) + payload

JFIF = jpeg_segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0")
put("image_header", "ihdr_300x200.png", png(300, 200, 8, 2)[:33])
put("image_header", "whole_5x3.png", png(5, 3, 8, 0))
put("image_header", "baseline_640x480.jpg", b"\xFF\xD8" + JFIF + jpeg_sof(0xC0, 640, 480))
put("image_header", "progressive_1920x1080.jpg", b"\xFF\xD8" + JFIF + b"\xFF\xFF" + jpeg_segment(0xE1, b"Exif\0\0MM" + bytes(40))
    + jpeg_segment(0xC4, bytes(20)) + b"\xFF\xD0" + jpeg_sof(0xC2, 1920, 1080))
put("image_header", "info_33x-17.bmp", b"BM" + struct.pack("<IIIIiiHH", 54, 0, 54, 40, 33, -17, 1, 24) + bytes(24))
put("image_header", "core_31x7.bmp", b"BM" + struct.pack("<IIIIHHHH", 26, 0, 26, 12, 31, 7, 1, 24))
put("image_header", "le_short_320x240.tif", tiff("<", [(254, 4, 0), (256, 3, 320), (257, 3, 240), (258, 3, 8)]))
put("image_header", "be_long_70000x3.tif", tiff(">", [(256, 4, 70000), (257, 4, 3)], ifd_offset=40))
put("image_header", "vp8_1000x750.webp", riff(b"VP8 ", b"\x10\x02\0\x9D\x01\x2A" + struct.pack("<HH", 1000, 750)))
put("image_header", "vp8l_400x5.webp", riff(b"VP8L", b"\x2F" + struct.pack("<I", 399 | 4 << 14 | 1 << 28)))
put("image_header", "vp8x_4096x9.webp", riff(b"VP8X", b"\x10\0\0\0" + struct.pack("<I", 4095)[:3] + struct.pack("<I", 8)[:3]))
put("image_header", "gif89a_12x34.gif", b"GIF89a" + struct.pack("<HHBBB", 12, 34, 0xF7, 0, 0))
