# Writes gdextension_interface.h into OUT_DIR with `GODOT --headless --dump-gdextension-interface`
# (Godot writes it into its working directory). Run by the build: cmake -DGODOT=... -DOUT_DIR=... -P
if(NOT GODOT OR NOT OUT_DIR)
  message(FATAL_ERROR "dump_interface.cmake needs -DGODOT=<godot executable> -DOUT_DIR=<folder>")
endif()
file(MAKE_DIRECTORY "${OUT_DIR}/tmp")
file(REMOVE "${OUT_DIR}/tmp/gdextension_interface.h")
execute_process(
  COMMAND "${GODOT}" --headless --dump-gdextension-interface
  WORKING_DIRECTORY "${OUT_DIR}/tmp"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
if(NOT EXISTS "${OUT_DIR}/tmp/gdextension_interface.h")
  message(FATAL_ERROR "'${GODOT} --headless --dump-gdextension-interface' wrote no "
                      "gdextension_interface.h (exit ${rc}):\n${out}\n${err}")
endif()
execute_process(COMMAND "${GODOT}" --headless --version OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
file(RENAME "${OUT_DIR}/tmp/gdextension_interface.h" "${OUT_DIR}/gdextension_interface.h")
file(WRITE "${OUT_DIR}/godot_version.txt" "${version}\n")
message(STATUS "FoleyKit: dumped gdextension_interface.h from Godot ${version}")
