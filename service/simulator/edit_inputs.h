// The input images of an edit (reference §9) after the body parsed: URL inputs fetched (from
// loopback hosts only: the simulator never reaches out), every input checked as upstream checks
// it, and an output size derived from the last input when the request gave none.
#ifndef QWENIMAGE_SERVICE_SIMULATOR_EDIT_INPUTS_H_
#define QWENIMAGE_SERVICE_SIMULATOR_EDIT_INPUTS_H_

#include <optional>

#include "service/simulator/errors.h"
#include "service/simulator/request.h"

namespace qwenimage::simulator {

// Fetches each URL input into its bytes. Only http(s) URLs of 127.0.0.1, [::1] and localhost are
// contacted (https without certificate checks: tests serve self-signed); any other host is refused
// without a connection, as an upload upstream could not download. Blocking, bounded (10 s,
// 10 MiB + 1 byte): the loop waits for a loopback fetch.
// Error: 400 InvalidParameter.DataInspection "Download the media resource ... failed".
std::optional<ApiError> FetchInputImages(ImageRequest* request);

// Checks every input's bytes (format sniffed: JPEG, PNG, BMP, TIFF, WEBP, GIF; at most 10 MiB;
// each side 384..3072), records their sha256 in order, and without a size gives the output the
// last input's aspect ratio at about 1024*1024 pixels (sides multiples of 16, within the model's
// rule). Errors: 400 InvalidParameter naming the image by its position.
std::optional<ApiError> CheckInputImages(ImageRequest* request);

}  // namespace qwenimage::simulator

#endif  // QWENIMAGE_SERVICE_SIMULATOR_EDIT_INPUTS_H_
