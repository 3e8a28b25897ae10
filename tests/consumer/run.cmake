# ctest cpp_tour_consumer: the README's C++ tour, built the way a C++ user would.
#   1. extract the first ```cpp block under "## C++ tour" from README.md (at test
#      time, so the README cannot drift from what is tested);
#   2. install the native build tree into a fresh prefix (cmake --install);
#   3. configure tests/consumer against that prefix only (find_package), build the
#      tour, a weights writer, and every installed header on its own;
#   4. run the tour: with its own init, with a weights file, with a missing file;
#      check what it prints.
# cmake -DATTN_BUILD_DIR=... -DATTN_SOURCE_DIR=... -DWORK_DIR=... -DCMAKE_CXX_COMPILER=... -DGENERATOR=... -P run.cmake
foreach(v ATTN_BUILD_DIR ATTN_SOURCE_DIR WORK_DIR CMAKE_CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run.cmake: -D${v}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

# 1. The snippet.
file(READ ${ATTN_SOURCE_DIR}/README.md readme)
string(FIND "${readme}" "\n## C++ tour\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md has no '## C++ tour' section")
endif()
math(EXPR at "${at} + 1")
string(SUBSTRING "${readme}" ${at} -1 section)
string(FIND "${section}" "\n## " end)  # the next section
if(NOT end EQUAL -1)
  string(SUBSTRING "${section}" 0 ${end} section)
endif()
string(FIND "${section}" "\n```cpp\n" open)
if(open EQUAL -1)
  message(FATAL_ERROR "README.md '## C++ tour' has no ```cpp block")
endif()
math(EXPR open "${open} + 8")
string(SUBSTRING "${section}" ${open} -1 code)
string(FIND "${code}" "\n```" close)
if(close EQUAL -1)
  message(FATAL_ERROR "README.md '## C++ tour': unterminated ```cpp block")
endif()
math(EXPR close "${close} + 1")
string(SUBSTRING "${code}" 0 ${close} code)
if(NOT code MATCHES "int main\\(")
  message(FATAL_ERROR "README.md '## C++ tour': the ```cpp block must be a complete program (with main)")
endif()
file(WRITE ${WORK_DIR}/tour.cpp "${code}")

# 2. Install.
run("cmake --install" ${CMAKE_COMMAND} --install ${ATTN_BUILD_DIR} --prefix ${WORK_DIR}/prefix)

# 3. Configure and build the consumer against the fresh prefix only.
run("configuring tests/consumer" ${CMAKE_COMMAND} -S ${ATTN_SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
  -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DATTN_TOUR_SOURCE=${WORK_DIR}/tour.cpp)
string(FIND "${out}" "from ${WORK_DIR}/prefix/" found)
if(found EQUAL -1)
  message(FATAL_ERROR "find_package did not pick the fresh install:\n${out}")
endif()
run("building tests/consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel 2)

# 4. Run.
set(tour ${WORK_DIR}/build/tour)
run("tour" ${tour})
message(STATUS "tour (own init):\n${out}")
set(expect
  "output \\[2, 5, 16\\], weights \\[2, 4, 5, 5\\]"
  # sequence 0 is 3 tokens long: the padded keys 3 and 4 get no weight, the rest sum to 1
  "query 1 attends: 0\\.[0-9]+ 0\\.[0-9]+ 0\\.[0-9]+ 0\\.000 0\\.000 \\(sum 1\\.000\\)"
  "output\\[0, 0, :4\\] = -?[0-9]+\\.[0-9]+ -?[0-9]+\\.[0-9]+ -?[0-9]+\\.[0-9]+ -?[0-9]+\\.[0-9]+")
foreach(re IN LISTS expect)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "tour output does not match '${re}':\n${out}")
  endif()
endforeach()
string(REGEX MATCH "output\\[0, 0, :4\\] = [^\n]*" own_values "${out}")

run("save_weights" ${WORK_DIR}/build/save_weights ${WORK_DIR}/mha.safetensors)
run("tour with a weights file" ${tour} ${WORK_DIR}/mha.safetensors)
message(STATUS "tour (loaded weights):\n${out}")
string(REGEX MATCH "output\\[0, 0, :4\\] = [^\n]*" loaded_values "${out}")
if(NOT out MATCHES "output \\[2, 5, 16\\]" OR loaded_values STREQUAL "" OR loaded_values STREQUAL own_values)
  message(FATAL_ERROR "loading weights did not change the output (${own_values} vs ${loaded_values}):\n${out}")
endif()

execute_process(COMMAND ${tour} ${WORK_DIR}/missing.safetensors RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "missing\\.safetensors")
  message(FATAL_ERROR "a missing weights file should fail with a message naming it (exit ${rc}):\n${out}\n${err}")
endif()
message(STATUS "tour (missing file): exit ${rc}, ${err}")
message(STATUS "C++ tour: OK")
