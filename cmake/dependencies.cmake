# Header-only dependencies from Debian packages (libxsimd-dev, nlohmann-json3-dev).
# Debian's xsimd CMake config is broken (it asks for -lxtl), and Emscripten's
# sysroot hides /usr/include; adding -I/usr/include would pull in host glibc
# headers. So each header tree gets a symlink in a private directory that is
# added as a SYSTEM include: the same recipe works natively and for em++.
function(attn_header_dependency target header_dir probe)
  find_path(_dir ${probe} PATHS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH NO_DEFAULT_PATH)
  if(NOT _dir)
    message(FATAL_ERROR "${probe} not found: run scripts/bootstrap.sh (installs the Debian package)")
  endif()
  set(link_root ${PROJECT_BINARY_DIR}/deps-include/${target})
  file(MAKE_DIRECTORY ${link_root})
  if(NOT EXISTS ${link_root}/${header_dir})
    file(CREATE_LINK ${_dir}/${header_dir} ${link_root}/${header_dir} SYMBOLIC)
  endif()
  add_library(${target} INTERFACE)
  target_include_directories(${target} SYSTEM INTERFACE ${link_root})
  unset(_dir CACHE)
endfunction()

attn_header_dependency(attn_xsimd xsimd xsimd/xsimd.hpp)
attn_header_dependency(attn_json nlohmann nlohmann/json.hpp)
