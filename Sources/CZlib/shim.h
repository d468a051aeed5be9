// zlib (Debian package zlib1g-dev), for HdrHistogram's compressed histogram encoding (.hlog).
#include <zlib.h>
