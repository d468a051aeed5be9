// liblz4's frame API, to wrap fuzzed text in a frame (the toolkit's own CLZ4 is internal to it).
#include <lz4frame.h>
