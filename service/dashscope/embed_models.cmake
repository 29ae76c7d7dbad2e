# Writes OUTPUT, a .cc defining the bytes of INPUT (models.json) as
# qwenimage::dashscope::kEmbeddedModelsJson: the built-in catalog is that file, not a copy.
# Run as `cmake -DINPUT=... -DOUTPUT=... -P embed_models.cmake` (a build step of qwenimage_dashscope).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# Two hex digits per byte -> "0x..," with a line break every 16 bytes.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from service/dashscope/models.json by embed_models.cmake; do not edit.\n"
  "#include <cstddef>\n\n"
  "namespace qwenimage::dashscope {\n"
  "namespace {\n"
  "// unsigned: UTF-8 bytes past 0x7f would not narrow into a char.\n"
  "const unsigned char kBytes[] = {\n    ${bytes}0x00};\n"
  "}  // namespace\n"
  "extern const char* const kEmbeddedModelsJson;\n"
  "extern const size_t kEmbeddedModelsJsonSize;\n"
  "const char* const kEmbeddedModelsJson = reinterpret_cast<const char*>(kBytes);\n"
  "const size_t kEmbeddedModelsJsonSize = ${size};\n"
  "}  // namespace qwenimage::dashscope\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
