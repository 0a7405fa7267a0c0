/*
 * gdx: the small slice of Godot's GDExtension C interface this extension uses, loaded once
 * through get_proc_address, plus helpers for StringNames, Strings, Variants and error output.
 *
 * Everything here works at the Variant level (variant_call, variant_get/set, constructors by
 * type), so the extension needs no method hashes and no generated bindings: only the header
 * that Godot itself dumps (godot --dump-gdextension-interface), generated at build time.
 *
 * Opaque Godot values are held in byte buffers at least as large as the largest build's
 * (a Variant is 24 bytes in single-precision builds, 40 in double ones).
 */
#ifndef FOLEYKIT_GDX_H
#define FOLEYKIT_GDX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gdextension_interface.h>

typedef struct gdx_sn { _Alignas(8) uint8_t opaque[8]; } gdx_sn;    /* StringName */
typedef struct gdx_str { _Alignas(8) uint8_t opaque[8]; } gdx_str;  /* String */
typedef struct gdx_var { _Alignas(8) uint8_t opaque[40]; } gdx_var; /* Variant */

/* StringNames used by the extension, made once at load and released at unload. */
#define GDX_NAMES(X)                                                                          \
  X(Node) X(FoleyKitPlayer)                                                                   \
  X(add_child) X(set_process_internal) X(is_inside_tree) X(notification) X(is_class)          \
  X(set_stream) X(get_stream) X(play) X(stop) X(is_playing) X(get_stream_playback)            \
  X(set_mix_rate) X(set_mix_rate_mode) X(set_buffer_length)                                   \
  X(get_frames_available) X(get_skips) X(push_buffer)                                         \
  X(resize) X(size) X(keys) X(push_back) X(emit_signal) X(voice_finished) X(engine_event)

typedef struct gdx_names {
#define GDX_DECLARE_NAME(n) gdx_sn n;
  GDX_NAMES(GDX_DECLARE_NAME)
#undef GDX_DECLARE_NAME
} gdx_names;

typedef struct gdx_api {
  GDExtensionClassLibraryPtr library;
  GDExtensionInterfaceGetProcAddress get_proc_address;
  uint32_t godot_major, godot_minor, godot_patch;

  GDExtensionInterfacePrintError print_error;
  GDExtensionInterfacePrintWarning print_warning;

  GDExtensionInterfaceVariantNewCopy variant_new_copy;
  GDExtensionInterfaceVariantNewNil variant_new_nil;
  GDExtensionInterfaceVariantDestroy variant_destroy;
  GDExtensionInterfaceVariantCall variant_call;
  GDExtensionInterfaceVariantConstruct variant_construct;
  GDExtensionInterfaceVariantGetType variant_get_type;
  GDExtensionInterfaceVariantGetKeyed variant_get_keyed;
  GDExtensionInterfaceVariantSetKeyed variant_set_keyed;
  GDExtensionInterfaceVariantGetIndexed variant_get_indexed;
  GDExtensionInterfaceVariantStringify variant_stringify;
  GDExtensionInterfaceVariantHasMethod variant_has_method;
  GDExtensionInterfaceVariantCanConvertStrict variant_can_convert_strict;
  GDExtensionInterfaceGetVariantFromTypeConstructor get_variant_from_type_constructor;
  GDExtensionInterfaceGetVariantToTypeConstructor get_variant_to_type_constructor;
  GDExtensionInterfaceGetVariantGetInternalPtrFunc variant_get_ptr_internal_getter;
  GDExtensionInterfaceVariantGetPtrDestructor variant_get_ptr_destructor;

  GDExtensionInterfaceStringNewWithUtf8CharsAndLen2 string_new_with_utf8_chars_and_len2;
  GDExtensionInterfaceStringToUtf8Chars string_to_utf8_chars;
  GDExtensionInterfaceStringNameNewWithLatin1Chars string_name_new_with_latin1_chars;
  GDExtensionInterfaceStringNameNewWithUtf8Chars string_name_new_with_utf8_chars;

  GDExtensionInterfacePackedFloat32ArrayOperatorIndex packed_float32_array_operator_index;
  GDExtensionInterfacePackedVector2ArrayOperatorIndex packed_vector2_array_operator_index;
  GDExtensionInterfacePackedByteArrayOperatorIndexConst packed_byte_array_operator_index_const;

  GDExtensionInterfaceGlobalGetSingleton global_get_singleton;
  GDExtensionInterfaceObjectSetInstance object_set_instance;
  GDExtensionInterfaceObjectGetInstanceId object_get_instance_id;
  GDExtensionInterfaceObjectGetInstanceFromId object_get_instance_from_id;
  GDExtensionInterfaceClassdbConstructObject2 classdb_construct_object2;
  GDExtensionInterfaceClassdbGetMethodBind classdb_get_method_bind;
  GDExtensionInterfaceObjectMethodBindCall object_method_bind_call;
  GDExtensionInterfaceClassdbRegisterExtensionClass5 classdb_register_extension_class5; /* or ..4 */
  GDExtensionInterfaceClassdbRegisterExtensionClassMethod classdb_register_extension_class_method;
  GDExtensionInterfaceClassdbRegisterExtensionClassProperty classdb_register_extension_class_property;
  GDExtensionInterfaceClassdbUnregisterExtensionClass classdb_unregister_extension_class;
  GDExtensionInterfaceClassdbRegisterExtensionClassSignal classdb_register_extension_class_signal;

  /* Cached per-type conversions. */
  GDExtensionVariantFromTypeConstructorFunc from_bool, from_int, from_float, from_string,
      from_string_name, from_object;
  GDExtensionTypeFromVariantConstructorFunc to_bool, to_int, to_float, to_string, to_object;
  GDExtensionPtrDestructor string_destroy, string_name_destroy;
  GDExtensionVariantGetInternalPtrFunc internal_packed_float32, internal_packed_vector2,
      internal_packed_byte;

  gdx_names sn;
  bool names_ready;
} gdx_api;

extern gdx_api gdx;

/* Loads every function; on failure returns false and names the missing one in *missing. */
bool gdx_load(GDExtensionInterfaceGetProcAddress get_proc_address,
              GDExtensionClassLibraryPtr library, const char** missing);
void gdx_names_init(void);
void gdx_names_free(void);

/* Godot's error/warning log (the Output panel, stderr, OS loggers). printf-style. */
void gdx_error_at(const char* func, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
void gdx_warning_at(const char* func, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define GDX_ERROR(...) gdx_error_at(__func__, __FILE__, __LINE__, __VA_ARGS__)
#define GDX_WARNING(...) gdx_warning_at(__func__, __FILE__, __LINE__, __VA_ARGS__)

/* StringName from an ASCII/Latin-1 C string (copied). */
void gdx_sn_cstr(gdx_sn* out, const char* latin1);
/* StringName copied from any UTF-8 string. */
void gdx_sn_utf8(gdx_sn* out, const char* utf8);
void gdx_sn_free(gdx_sn* sn);
void gdx_str_utf8(gdx_str* out, const char* utf8);
void gdx_str_free(gdx_str* s);

/* Variants. Every gdx_var that was initialised must be released with gdx_var_free. */
void gdx_var_nil(gdx_var* v);
void gdx_var_free(gdx_var* v);
void gdx_var_copy(gdx_var* dst, const gdx_var* src);
void gdx_var_bool(gdx_var* v, bool b);
void gdx_var_int(gdx_var* v, int64_t i);
void gdx_var_float(gdx_var* v, double d);
void gdx_var_cstr(gdx_var* v, const char* utf8);
void gdx_var_object(gdx_var* v, GDExtensionObjectPtr obj); /* NULL gives a null Object */
/* An empty value of a constructible type (Dictionary, Array, PackedFloat32Array...). */
void gdx_var_new(gdx_var* v, GDExtensionVariantType type);
GDExtensionVariantType gdx_var_type(const gdx_var* v);

bool gdx_var_get_bool(const gdx_var* v);
int64_t gdx_var_get_int(const gdx_var* v);
double gdx_var_get_float(const gdx_var* v);
/* Is the value a number (int, float or bool)? Writes it as a double. */
bool gdx_var_number(const gdx_var* v, double* out);
/* UTF-8 text of any value (Variant stringification), NUL-terminated and truncated to cap.
 * Returns the full length in bytes. */
size_t gdx_var_utf8(const gdx_var* v, char* buf, size_t cap);
GDExtensionObjectPtr gdx_var_get_object(const gdx_var* v);

/* v.method(args...) through variant_call. ret may be NULL (discarded). false when the call
 * failed (the reason goes to Godot's log, prefixed by `what` when not NULL). */
bool gdx_call(gdx_var* self, const gdx_sn* method, const gdx_var* const* args, int argc,
              gdx_var* ret);
bool gdx_call0(gdx_var* self, const gdx_sn* method, gdx_var* ret);
bool gdx_call1(gdx_var* self, const gdx_sn* method, const gdx_var* a, gdx_var* ret);
bool gdx_call2(gdx_var* self, const gdx_sn* method, const gdx_var* a, const gdx_var* b,
               gdx_var* ret);

/* Dictionary/Array helpers on Variants. */
bool gdx_dict_set_cstr(gdx_var* dict, const char* key, const gdx_var* value);
int64_t gdx_size(gdx_var* v); /* .size() of an Array/Dictionary/Packed*Array, -1 on failure */
bool gdx_array_push(gdx_var* array, const gdx_var* value);

/* Writable pointer to a PackedFloat32Array / PackedVector2Array held in a Variant (after
 * resize). NULL when empty or of another type. */
float* gdx_packed_float32_ptr(gdx_var* v);
float* gdx_packed_vector2_ptr(gdx_var* v); /* x0, y0, x1, y1, ... (single precision only) */
const uint8_t* gdx_packed_byte_ptr(gdx_var* v);

/* Calls a static method of a Godot class by name and hash (object_method_bind_call). */
bool gdx_call_static(const char* class_name, const char* method, int64_t hash,
                     const gdx_var* const* args, int argc, gdx_var* ret);

const char* gdx_type_name(GDExtensionVariantType t);

#endif /* FOLEYKIT_GDX_H */
