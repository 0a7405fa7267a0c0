/*
 * The fk_model_* part of FoleyKit's C ABI, referenced weakly.
 *
 * The extension must load (and report a clear error) with a libfoleykit that predates the
 * model runtime, so these symbols are bound if the library has them and are NULL otherwise;
 * fkgd_model_api_available() says which. Every file that calls an fk_model_* function
 * includes this header. ELF (Linux, Android) only; other platforms would link them normally.
 */
#ifndef FOLEYKIT_GODOT_FK_MODEL_WEAK_H
#define FOLEYKIT_GODOT_FK_MODEL_WEAK_H

#include <foleykit/foleykit.h>
#include <stdbool.h>

#if defined(__ELF__)
#pragma weak fk_model_load
#pragma weak fk_model_load_memory
#pragma weak fk_model_destroy
#pragma weak fk_model_get_info
#pragma weak fk_model_get_control
#pragma weak fk_model_control_choice
#pragma weak fk_model_find_control
#pragma weak fk_model_find_choice
#pragma weak fk_model_default_controls
#pragma weak fk_model_session_create
#pragma weak fk_model_session_destroy
#pragma weak fk_model_generate
#pragma weak fk_model_stream_reset
#pragma weak fk_model_stream_set_controls
#pragma weak fk_model_stream_next
#define FKGD_MODEL_API_PRESENT()                                                               \
  (fk_model_load && fk_model_load_memory && fk_model_destroy && fk_model_get_info &&          \
   fk_model_get_control && fk_model_control_choice && fk_model_find_control &&                \
   fk_model_find_choice && fk_model_default_controls && fk_model_session_create &&            \
   fk_model_session_destroy && fk_model_generate && fk_model_stream_reset &&                  \
   fk_model_stream_set_controls && fk_model_stream_next)
#else
#define FKGD_MODEL_API_PRESENT() 1
#endif

#endif
