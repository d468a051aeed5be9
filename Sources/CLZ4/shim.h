// The LZ4 frame API (liblz4, Debian package liblz4-dev), used for trace files.
#include <lz4frame.h>
