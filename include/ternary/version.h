// Library version (kept in step with CMakeLists.txt and meson.build).
#ifndef TERNARY_VERSION_H_
#define TERNARY_VERSION_H_

#define TERNARY_VERSION_MAJOR 0
#define TERNARY_VERSION_MINOR 1
#define TERNARY_VERSION_PATCH 0
#define TERNARY_VERSION_STRING "0.1.0"

#endif  // TERNARY_VERSION_H_
