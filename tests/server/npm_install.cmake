# Installs the server tests' npm packages (package.json, package-lock.json
# beside this file) into the build tree, once: a second run finds the stamp
# of the same lock file and downloads nothing. npm's cache is in the build
# tree too, so a changed lock file downloads only what changed.
#   cmake -DNPM=<npm> -DSOURCE=<tests/server> -DDIR=<build dir> -P npm_install.cmake
file(SHA256 "${SOURCE}/package-lock.json" want)
set(stamp "${DIR}/node_modules/.ternary-lock-sha256")
if(EXISTS "${stamp}")
  file(READ "${stamp}" have)
  if(have STREQUAL want)
    message(STATUS "npm packages up to date in ${DIR}/node_modules")
    return()
  endif()
endif()
file(MAKE_DIRECTORY "${DIR}")
file(COPY "${SOURCE}/package.json" "${SOURCE}/package-lock.json"
     DESTINATION "${DIR}")
execute_process(
  COMMAND "${NPM}" ci --no-audit --no-fund --ignore-scripts
          --cache "${DIR}/npm-cache"
  WORKING_DIRECTORY "${DIR}"
  RESULT_VARIABLE rc TIMEOUT 600)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm ci failed (${rc}) in ${DIR}")
endif()
file(WRITE "${stamp}" "${want}")
