# Assembles a runnable Godot project: SRC (a project folder from godot_bindings/) copied to DST,
# the built addon ADDON copied to DST/addons/foleykit, every *.fkm in MODELS_DIR (if any) copied
# to DST/models/, and DST/.godot/extension_list.cfg written so Godot loads the extension without
# an editor import pass first. Run by the build: cmake -DSRC=.. -DDST=.. -DADDON=.. -P
foreach(v SRC DST ADDON)
  if(NOT ${v})
    message(FATAL_ERROR "assemble_project.cmake needs -D${v}=...")
  endif()
endforeach()
file(REMOVE_RECURSE "${DST}/addons/foleykit")
file(MAKE_DIRECTORY "${DST}/addons" "${DST}/.godot")
file(COPY "${SRC}/" DESTINATION "${DST}" PATTERN "addons" EXCLUDE PATTERN ".godot" EXCLUDE)
file(COPY "${ADDON}" DESTINATION "${DST}/addons")
if(MODELS_DIR AND IS_DIRECTORY "${MODELS_DIR}")
  file(GLOB models "${MODELS_DIR}/*.fkm")
  if(models)
    file(MAKE_DIRECTORY "${DST}/models")
    file(COPY ${models} DESTINATION "${DST}/models")
  endif()
endif()
file(WRITE "${DST}/.godot/extension_list.cfg" "res://addons/foleykit/foleykit.gdextension\n")
