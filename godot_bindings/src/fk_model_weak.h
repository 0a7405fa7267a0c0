/*
 * The fk_model_* part of FoleyKit's C ABI, referenced weakly.
 *
 * The extension must load (and report a clear error) with a libfoleykit that predates the
 * model runtime (and the fk_engine_* part with it), so these symbols are bound if the library has them and are NULL otherwise;
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
#pragma weak fk_engine_config_default
#pragma weak fk_engine_create
#pragma weak fk_engine_destroy
#pragma weak fk_engine_add_model
#pragma weak fk_engine_trigger
#pragma weak fk_engine_start
#pragma weak fk_engine_set_controls
#pragma weak fk_engine_stop
#pragma weak fk_engine_render
#pragma weak fk_engine_poll_event
#pragma weak fk_engine_sync
#define FKGD_MODEL_API_PRESENT()                                                               \
  (fk_model_load && fk_model_load_memory && fk_model_destroy && fk_model_get_info &&          \
   fk_model_get_control && fk_model_control_choice && fk_model_find_control &&                \
   fk_model_find_choice && fk_model_default_controls && fk_model_session_create &&            \
   fk_model_session_destroy && fk_model_generate && fk_model_stream_reset &&                  \
   fk_model_stream_set_controls && fk_model_stream_next && fk_engine_config_default &&         \
   fk_engine_create && fk_engine_destroy && fk_engine_add_model && fk_engine_trigger &&        \
   fk_engine_start && fk_engine_set_controls && fk_engine_stop && fk_engine_render &&          \
   fk_engine_poll_event && fk_engine_sync)
#else
#define FKGD_MODEL_API_PRESENT() 1
#endif

#endif
