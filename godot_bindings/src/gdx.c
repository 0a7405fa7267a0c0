/* gdx: see gdx.h. */
#include "gdx.h"

#include <stdio.h>
#include <string.h>

gdx_api gdx;

#define GDX_LOAD(field, name)                                                               \
  do {                                                                                      \
    gdx.field = (__typeof__(gdx.field))(void*)get_proc_address(name);                       \
    if (!gdx.field) {                                                                       \
      *missing = name;                                                                      \
      return false;                                                                         \
    }                                                                                       \
  } while (0)

bool gdx_load(GDExtensionInterfaceGetProcAddress get_proc_address,
              GDExtensionClassLibraryPtr library, const char** missing) {
  static const char* none = "";
  *missing = none;
  memset(&gdx, 0, sizeof gdx);
  gdx.library = library;
  gdx.get_proc_address = get_proc_address;

  /* get_godot_version2 is 4.5+; get_godot_version (4.1+) is deprecated but still there. */
  GDExtensionInterfaceGetGodotVersion2 gv2 =
      (GDExtensionInterfaceGetGodotVersion2)(void*)get_proc_address("get_godot_version2");
  if (gv2) {
    GDExtensionGodotVersion2 v;
    memset(&v, 0, sizeof v);
    gv2(&v);
    gdx.godot_major = v.major, gdx.godot_minor = v.minor, gdx.godot_patch = v.patch;
  } else {
    GDExtensionInterfaceGetGodotVersion gv1 =
        (GDExtensionInterfaceGetGodotVersion)(void*)get_proc_address("get_godot_version");
    if (gv1) {
      GDExtensionGodotVersion v;
      memset(&v, 0, sizeof v);
      gv1(&v);
      gdx.godot_major = v.major, gdx.godot_minor = v.minor, gdx.godot_patch = v.patch;
    }
  }

  GDX_LOAD(print_error, "print_error");
  GDX_LOAD(print_warning, "print_warning");
  GDX_LOAD(variant_new_copy, "variant_new_copy");
  GDX_LOAD(variant_new_nil, "variant_new_nil");
  GDX_LOAD(variant_destroy, "variant_destroy");
  GDX_LOAD(variant_call, "variant_call");
  GDX_LOAD(variant_construct, "variant_construct");
  GDX_LOAD(variant_get_type, "variant_get_type");
  GDX_LOAD(variant_get_keyed, "variant_get_keyed");
  GDX_LOAD(variant_set_keyed, "variant_set_keyed");
  GDX_LOAD(variant_get_indexed, "variant_get_indexed");
  GDX_LOAD(variant_stringify, "variant_stringify");
  GDX_LOAD(variant_has_method, "variant_has_method");
  GDX_LOAD(variant_can_convert_strict, "variant_can_convert_strict");
  GDX_LOAD(get_variant_from_type_constructor, "get_variant_from_type_constructor");
  GDX_LOAD(get_variant_to_type_constructor, "get_variant_to_type_constructor");
  GDX_LOAD(variant_get_ptr_internal_getter, "variant_get_ptr_internal_getter");
  GDX_LOAD(variant_get_ptr_destructor, "variant_get_ptr_destructor");
  GDX_LOAD(string_new_with_utf8_chars_and_len2, "string_new_with_utf8_chars_and_len2");
  GDX_LOAD(string_to_utf8_chars, "string_to_utf8_chars");
  GDX_LOAD(string_name_new_with_latin1_chars, "string_name_new_with_latin1_chars");
  GDX_LOAD(string_name_new_with_utf8_chars, "string_name_new_with_utf8_chars");
  GDX_LOAD(packed_float32_array_operator_index, "packed_float32_array_operator_index");
  GDX_LOAD(packed_vector2_array_operator_index, "packed_vector2_array_operator_index");
  GDX_LOAD(packed_byte_array_operator_index_const, "packed_byte_array_operator_index_const");
  GDX_LOAD(global_get_singleton, "global_get_singleton");
  GDX_LOAD(object_set_instance, "object_set_instance");
  GDX_LOAD(object_get_instance_id, "object_get_instance_id");
  GDX_LOAD(object_get_instance_from_id, "object_get_instance_from_id");
  GDX_LOAD(classdb_construct_object2, "classdb_construct_object2");
  GDX_LOAD(classdb_get_method_bind, "classdb_get_method_bind");
  GDX_LOAD(object_method_bind_call, "object_method_bind_call");
  GDX_LOAD(classdb_register_extension_class_signal, "classdb_register_extension_class_signal");
  /* classdb_register_extension_class5 (4.5+) and ..4 (4.4) take the same struct. */
  gdx.classdb_register_extension_class5 = (GDExtensionInterfaceClassdbRegisterExtensionClass5)(
      void*)get_proc_address("classdb_register_extension_class5");
  if (!gdx.classdb_register_extension_class5) {
    GDX_LOAD(classdb_register_extension_class5, "classdb_register_extension_class4");
  }
  GDX_LOAD(classdb_register_extension_class_method, "classdb_register_extension_class_method");
  GDX_LOAD(classdb_register_extension_class_property, "classdb_register_extension_class_property");
  GDX_LOAD(classdb_unregister_extension_class, "classdb_unregister_extension_class");

#define GDX_CONV(field, getter, type)                                                       \
  do {                                                                                      \
    gdx.field = gdx.getter(type);                                                           \
    if (!gdx.field) {                                                                       \
      *missing = #getter "(" #type ")";                                                     \
      return false;                                                                         \
    }                                                                                       \
  } while (0)
  GDX_CONV(from_bool, get_variant_from_type_constructor, GDEXTENSION_VARIANT_TYPE_BOOL);
  GDX_CONV(from_int, get_variant_from_type_constructor, GDEXTENSION_VARIANT_TYPE_INT);
  GDX_CONV(from_float, get_variant_from_type_constructor, GDEXTENSION_VARIANT_TYPE_FLOAT);
  GDX_CONV(from_string, get_variant_from_type_constructor, GDEXTENSION_VARIANT_TYPE_STRING);
  GDX_CONV(from_string_name, get_variant_from_type_constructor, GDEXTENSION_VARIANT_TYPE_STRING_NAME);
  GDX_CONV(from_object, get_variant_from_type_constructor, GDEXTENSION_VARIANT_TYPE_OBJECT);
  GDX_CONV(to_bool, get_variant_to_type_constructor, GDEXTENSION_VARIANT_TYPE_BOOL);
  GDX_CONV(to_int, get_variant_to_type_constructor, GDEXTENSION_VARIANT_TYPE_INT);
  GDX_CONV(to_float, get_variant_to_type_constructor, GDEXTENSION_VARIANT_TYPE_FLOAT);
  GDX_CONV(to_string, get_variant_to_type_constructor, GDEXTENSION_VARIANT_TYPE_STRING);
  GDX_CONV(to_object, get_variant_to_type_constructor, GDEXTENSION_VARIANT_TYPE_OBJECT);
  GDX_CONV(string_destroy, variant_get_ptr_destructor, GDEXTENSION_VARIANT_TYPE_STRING);
  GDX_CONV(string_name_destroy, variant_get_ptr_destructor, GDEXTENSION_VARIANT_TYPE_STRING_NAME);
  GDX_CONV(internal_packed_float32, variant_get_ptr_internal_getter, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY);
  GDX_CONV(internal_packed_vector2, variant_get_ptr_internal_getter, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY);
  GDX_CONV(internal_packed_byte, variant_get_ptr_internal_getter, GDEXTENSION_VARIANT_TYPE_PACKED_BYTE_ARRAY);
#undef GDX_CONV
  return true;
}

void gdx_names_init(void) {
  if (gdx.names_ready) return;
#define GDX_INIT_NAME(n) gdx_sn_cstr(&gdx.sn.n, #n);
  GDX_NAMES(GDX_INIT_NAME)
#undef GDX_INIT_NAME
  gdx.names_ready = true;
}

void gdx_names_free(void) {
  if (!gdx.names_ready) return;
#define GDX_FREE_NAME(n) gdx_sn_free(&gdx.sn.n);
  GDX_NAMES(GDX_FREE_NAME)
#undef GDX_FREE_NAME
  gdx.names_ready = false;
}

/* ---- log -------------------------------------------------------------------------------- */

static void gdx_vlog(bool error, const char* func, const char* file, int line, const char* fmt,
                     va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (error && gdx.print_error) {
    gdx.print_error(msg, func, file, line, 1);
  } else if (!error && gdx.print_warning) {
    gdx.print_warning(msg, func, file, line, 1);
  } else {
    fprintf(stderr, "%s: %s (%s:%d)\n", error ? "ERROR" : "WARNING", msg, file, line);
  }
}

void gdx_error_at(const char* func, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gdx_vlog(true, func, file, line, fmt, ap);
  va_end(ap);
}

void gdx_warning_at(const char* func, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gdx_vlog(false, func, file, line, fmt, ap);
  va_end(ap);
}

/* ---- strings ----------------------------------------------------------------------------- */

void gdx_sn_cstr(gdx_sn* out, const char* latin1) {
  /* Not p_is_static: such StringNames must never be destroyed, and these are at unload. */
  gdx.string_name_new_with_latin1_chars(out, latin1, 0);
}

void gdx_sn_utf8(gdx_sn* out, const char* utf8) {
  gdx.string_name_new_with_utf8_chars(out, utf8);
}

void gdx_sn_free(gdx_sn* sn) { gdx.string_name_destroy(sn); }

void gdx_str_utf8(gdx_str* out, const char* utf8) {
  gdx.string_new_with_utf8_chars_and_len2(out, utf8 ? utf8 : "",
                                          utf8 ? (GDExtensionInt)strlen(utf8) : 0);
}

void gdx_str_free(gdx_str* s) { gdx.string_destroy(s); }

/* ---- variants ---------------------------------------------------------------------------- */

void gdx_var_nil(gdx_var* v) { gdx.variant_new_nil(v); }
void gdx_var_free(gdx_var* v) { gdx.variant_destroy(v); }
void gdx_var_copy(gdx_var* dst, const gdx_var* src) { gdx.variant_new_copy(dst, src); }

void gdx_var_bool(gdx_var* v, bool b) {
  GDExtensionBool x = b ? 1 : 0;
  gdx.from_bool(v, &x);
}

void gdx_var_int(gdx_var* v, int64_t i) { gdx.from_int(v, &i); }
void gdx_var_float(gdx_var* v, double d) { gdx.from_float(v, &d); }

void gdx_var_cstr(gdx_var* v, const char* utf8) {
  gdx_str s;
  gdx_str_utf8(&s, utf8);
  gdx.from_string(v, &s);
  gdx_str_free(&s);
}

void gdx_var_object(gdx_var* v, GDExtensionObjectPtr obj) { gdx.from_object(v, &obj); }

void gdx_var_new(gdx_var* v, GDExtensionVariantType type) {
  GDExtensionCallError err;
  memset(&err, 0, sizeof err);
  gdx.variant_construct(type, v, NULL, 0, &err);
  if (err.error != GDEXTENSION_CALL_OK) {
    GDX_ERROR("FoleyKit: could not construct a %s", gdx_type_name(type));
    gdx.variant_new_nil(v);
  }
}

GDExtensionVariantType gdx_var_type(const gdx_var* v) { return gdx.variant_get_type(v); }

bool gdx_var_get_bool(const gdx_var* v) {
  GDExtensionBool b = 0;
  gdx.to_bool(&b, (GDExtensionVariantPtr)v);
  return b != 0;
}

int64_t gdx_var_get_int(const gdx_var* v) {
  int64_t i = 0;
  gdx.to_int(&i, (GDExtensionVariantPtr)v);
  return i;
}

double gdx_var_get_float(const gdx_var* v) {
  double d = 0;
  gdx.to_float(&d, (GDExtensionVariantPtr)v);
  return d;
}

bool gdx_var_number(const gdx_var* v, double* out) {
  switch (gdx_var_type(v)) {
    case GDEXTENSION_VARIANT_TYPE_INT: *out = (double)gdx_var_get_int(v); return true;
    case GDEXTENSION_VARIANT_TYPE_FLOAT: *out = gdx_var_get_float(v); return true;
    case GDEXTENSION_VARIANT_TYPE_BOOL: *out = gdx_var_get_bool(v) ? 1.0 : 0.0; return true;
    default: return false;
  }
}

size_t gdx_var_utf8(const gdx_var* v, char* buf, size_t cap) {
  gdx_str s;
  gdx_var_type(v) == GDEXTENSION_VARIANT_TYPE_STRING
      ? gdx.to_string(&s, (GDExtensionVariantPtr)v)
      : gdx.variant_stringify(v, &s);
  GDExtensionInt n = gdx.string_to_utf8_chars(&s, NULL, 0);
  if (cap > 0) {
    GDExtensionInt w = gdx.string_to_utf8_chars(&s, buf, (GDExtensionInt)(cap - 1));
    if (w < 0) w = 0;
    if ((size_t)w > cap - 1) w = (GDExtensionInt)(cap - 1);
    buf[w] = '\0';
  }
  gdx_str_free(&s);
  return n > 0 ? (size_t)n : 0;
}

GDExtensionObjectPtr gdx_var_get_object(const gdx_var* v) {
  if (gdx_var_type(v) != GDEXTENSION_VARIANT_TYPE_OBJECT) return NULL;
  GDExtensionObjectPtr o = NULL;
  gdx.to_object(&o, (GDExtensionVariantPtr)v);
  return o;
}

/* ---- calls ------------------------------------------------------------------------------- */

static const char* gdx_call_error_text(GDExtensionCallErrorType e) {
  switch (e) {
    case GDEXTENSION_CALL_ERROR_INVALID_METHOD: return "no such method";
    case GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case GDEXTENSION_CALL_ERROR_TOO_MANY_ARGUMENTS: return "too many arguments";
    case GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS: return "too few arguments";
    case GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL: return "instance is null";
    case GDEXTENSION_CALL_ERROR_METHOD_NOT_CONST: return "method not const";
    default: return "call failed";
  }
}

bool gdx_call(gdx_var* self, const gdx_sn* method, const gdx_var* const* args, int argc,
              gdx_var* ret) {
  gdx_var tmp;
  gdx_var* r = ret ? ret : &tmp;
  GDExtensionCallError err;
  memset(&err, 0, sizeof err);
  gdx.variant_call(self, method, (const GDExtensionConstVariantPtr*)args, argc, r, &err);
  bool ok = err.error == GDEXTENSION_CALL_OK;
  if (!ok) {
    gdx_var name;
    char text[128];
    gdx.from_string_name(&name, (GDExtensionTypePtr)method);
    gdx_var_utf8(&name, text, sizeof text);
    gdx_var_free(&name);
    GDX_ERROR("FoleyKit: calling %s() on a %s failed: %s (argument %d)", text,
              gdx_type_name(gdx_var_type(self)), gdx_call_error_text(err.error),
              (int)err.argument);
  }
  if (!ret) gdx_var_free(&tmp);
  return ok;
}

bool gdx_call0(gdx_var* self, const gdx_sn* method, gdx_var* ret) {
  return gdx_call(self, method, NULL, 0, ret);
}

bool gdx_call1(gdx_var* self, const gdx_sn* method, const gdx_var* a, gdx_var* ret) {
  const gdx_var* args[1] = {a};
  return gdx_call(self, method, args, 1, ret);
}

bool gdx_call2(gdx_var* self, const gdx_sn* method, const gdx_var* a, const gdx_var* b,
               gdx_var* ret) {
  const gdx_var* args[2] = {a, b};
  return gdx_call(self, method, args, 2, ret);
}

bool gdx_call_static(const char* class_name, const char* method, int64_t hash,
                     const gdx_var* const* args, int argc, gdx_var* ret) {
  gdx_sn c, m;
  gdx_sn_utf8(&c, class_name);
  gdx_sn_utf8(&m, method);
  GDExtensionMethodBindPtr mb = gdx.classdb_get_method_bind(&c, &m, hash);
  gdx_sn_free(&c);
  gdx_sn_free(&m);
  if (!mb) {
    GDX_ERROR("FoleyKit: this Godot has no %s.%s (hash %lld)", class_name, method,
              (long long)hash);
    if (ret) gdx_var_nil(ret);
    return false;
  }
  GDExtensionCallError err;
  memset(&err, 0, sizeof err);
  gdx_var tmp;
  gdx_var* r = ret ? ret : &tmp;
  gdx.object_method_bind_call(mb, NULL, (const GDExtensionConstVariantPtr*)args, argc, r, &err);
  if (!ret) gdx_var_free(&tmp);
  if (err.error != GDEXTENSION_CALL_OK) {
    GDX_ERROR("FoleyKit: calling %s.%s failed: %s", class_name, method,
              gdx_call_error_text(err.error));
    return false;
  }
  return true;
}

bool gdx_dict_set_cstr(gdx_var* dict, const char* key, const gdx_var* value) {
  gdx_var k;
  gdx_var_cstr(&k, key);
  GDExtensionBool valid = 0;
  gdx.variant_set_keyed(dict, &k, value, &valid);
  gdx_var_free(&k);
  return valid != 0;
}

int64_t gdx_size(gdx_var* v) {
  gdx_var r;
  if (!gdx_call0(v, &gdx.sn.size, &r)) return -1;
  int64_t n = gdx_var_type(&r) == GDEXTENSION_VARIANT_TYPE_INT ? gdx_var_get_int(&r) : -1;
  gdx_var_free(&r);
  return n;
}

bool gdx_array_push(gdx_var* array, const gdx_var* value) {
  return gdx_call1(array, &gdx.sn.push_back, value, NULL);
}

float* gdx_packed_float32_ptr(gdx_var* v) {
  if (gdx_var_type(v) != GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY || gdx_size(v) <= 0)
    return NULL;
  return gdx.packed_float32_array_operator_index(gdx.internal_packed_float32(v), 0);
}

float* gdx_packed_vector2_ptr(gdx_var* v) {
  if (gdx_var_type(v) != GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY || gdx_size(v) <= 0)
    return NULL;
  return (float*)gdx.packed_vector2_array_operator_index(gdx.internal_packed_vector2(v), 0);
}

const uint8_t* gdx_packed_byte_ptr(gdx_var* v) {
  if (gdx_var_type(v) != GDEXTENSION_VARIANT_TYPE_PACKED_BYTE_ARRAY || gdx_size(v) <= 0)
    return NULL;
  return gdx.packed_byte_array_operator_index_const(gdx.internal_packed_byte(v), 0);
}

const char* gdx_type_name(GDExtensionVariantType t) {
  static const char* names[] = {
      "null", "bool", "int", "float", "String", "Vector2", "Vector2i", "Rect2", "Rect2i",
      "Vector3", "Vector3i", "Transform2D", "Vector4", "Vector4i", "Plane", "Quaternion",
      "AABB", "Basis", "Transform3D", "Projection", "Color", "StringName", "NodePath", "RID",
      "Object", "Callable", "Signal", "Dictionary", "Array", "PackedByteArray",
      "PackedInt32Array", "PackedInt64Array", "PackedFloat32Array", "PackedFloat64Array",
      "PackedStringArray", "PackedVector2Array", "PackedVector3Array", "PackedColorArray",
      "PackedVector4Array"};
  return (t >= 0 && (size_t)t < sizeof names / sizeof names[0]) ? names[t] : "?";
}
