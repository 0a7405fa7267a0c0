/*
 * FoleyKit's Godot 4 extension (GDExtension, plain C11) over FoleyKit's C ABI.
 *
 * Entry point: foleykit_gdextension_init (the .gdextension file's entry_symbol). It loads the
 * interface functions it needs through get_proc_address (gdx.c) and, at the SCENE level,
 * registers the FoleyKitPlayer node (foleykit_player.c). Needs Godot 4.4 or newer
 * (classdb_construct_object2, classdb_register_extension_class4/5).
 */
#include <foleykit/foleykit.h>
#include <stdio.h>

#include "foleykit_player.h"
#include "gdx.h"

#if defined(_WIN32)
#define FKGD_EXPORT __declspec(dllexport)
#else
#define FKGD_EXPORT __attribute__((visibility("default")))
#endif

static void initialize(void* userdata, GDExtensionInitializationLevel level) {
  (void)userdata;
  if (level != GDEXTENSION_INITIALIZATION_SCENE) return;
  gdx_names_init();
  /* The library this was built against and the one that was loaded should agree. */
  unsigned maj = 0, min = 0, pat = 0;
  if (sscanf(fk_version(), "%u.%u.%u", &maj, &min, &pat) < 2 || maj != FK_VERSION_MAJOR ||
      min != FK_VERSION_MINOR) {
    GDX_WARNING("FoleyKit: the extension was built against FoleyKit %d.%d.%d but libfoleykit "
                "is %s",
                FK_VERSION_MAJOR, FK_VERSION_MINOR, FK_VERSION_PATCH, fk_version());
  }
  fkgd_player_register();
}

static void deinitialize(void* userdata, GDExtensionInitializationLevel level) {
  (void)userdata;
  if (level != GDEXTENSION_INITIALIZATION_SCENE) return;
  fkgd_player_unregister();
  gdx_names_free();
}

FKGD_EXPORT GDExtensionBool foleykit_gdextension_init(GDExtensionInterfaceGetProcAddress get_proc_address,
                                                      GDExtensionClassLibraryPtr library,
                                                      GDExtensionInitialization* init) {
  const char* missing = "";
  if (!gdx_load(get_proc_address, library, &missing)) {
    if (gdx.print_error) {
      GDX_ERROR("FoleyKit: this Godot (%u.%u.%u) lacks the GDExtension function '%s'; FoleyKit "
                "needs Godot 4.4 or newer",
                gdx.godot_major, gdx.godot_minor, gdx.godot_patch, missing);
    } else {
      fprintf(stderr, "FoleyKit: this Godot lacks the GDExtension function '%s'\n", missing);
    }
    return 0;
  }
  init->minimum_initialization_level = GDEXTENSION_INITIALIZATION_SCENE;
  init->userdata = NULL;
  init->initialize = initialize;
  init->deinitialize = deinitialize;
  return 1;
}
