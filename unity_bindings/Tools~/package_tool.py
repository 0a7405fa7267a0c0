#!/usr/bin/env python3
"""Static checks of the Unity package, and the generator of its .meta files. No dependencies.

    python3 package_tool.py check      # what .ci/test-unity runs; exit 1 on any problem
    python3 package_tool.py generate   # writes a .meta (new random GUID) for every asset without one

Unity's rules, as checked here:
  * Every file and folder Unity imports has a `<name>.meta` next to it with a GUID unique in
    the package. Unity skips (and wants no .meta for) names starting with "." and names ending
    in "~" together with everything inside them (Samples~, Documentation~, Tests/Native~ ...);
    Unity's manual: "Such folders aren't tracked with .meta files". It also skips *.tmp.
  * No .meta without its asset.
  * package.json and *.asmdef are JSON with the fields Unity needs; .meta files are YAML
    (checked with a small parser for the block-style subset Unity writes, and with PyYAML
    too when it is installed), with fileFormatVersion 2, a 32-hex-digit guid, and the importer
    that fits the file type; folders say folderAsset: yes.
  * Native plugins: the importer enables exactly the platform their folder is for, and a
    non-empty plugin binary is of the right kind (ELF x86-64 / AArch64, PE, Mach-O, ar).
  * Samples listed in package.json exist under Samples~.
  * A sample (Samples~/<name>/) is the exception to the rule above: the Package Manager copies
    it into Assets/ together with the .meta files it ships, so inside a sample every file and
    folder has its .meta, GUIDs unique together with the package's (a scene finds its scripts by
    them). Each scene (*.unity) there is checked too (check_scene): text-scene header, YAML
    documents with the !u! tags, fileID references inside the scene, m_Script GUIDs of the
    package's scripts, GameObject/component and Transform parent/child links, RequireComponent.
"""
from __future__ import annotations

import json
import os
import re
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# What Unity sees


def unity_ignores(name: str) -> bool:
    return name.startswith(".") or name.endswith("~") or name.endswith(".tmp") or name == "cvs"


def assets(root: str = ROOT):
    """Every path (relative, '/'-separated) that Unity imports: files and folders, no .meta."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not unity_ignores(d))
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for d in dirnames:
            out.append((d if rel == "." else rel + "/" + d, True))
        for f in sorted(filenames):
            if unity_ignores(f) or f.endswith(".meta"):
                continue
            out.append((f if rel == "." else rel + "/" + f, False))
    return out


def inside_sample(rel: str) -> bool:
    """Inside one sample's folder (Samples~/<name>/...): Unity's Package Manager copies a sample
    into Assets/Samples/<package>/<version>/<name>/ with the .meta files it ships, so they are
    kept there (and needed: a scene finds its scripts by their .meta GUIDs)."""
    parts = rel.split("/")
    return len(parts) >= 2 and parts[0] == "Samples~"


def ignored_metas(root: str = ROOT):
    """.meta files inside folders Unity ignores (they would be stale or misleading)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        inside_ignored = any(unity_ignores(p) for p in rel.split("/") if p != ".")
        if inside_sample(rel):
            continue  # samples are copied into Assets/ with their .meta files (check_samples)
        if inside_ignored:
            out += [rel + "/" + f for f in filenames if f.endswith(".meta")]
    return sorted(out)


# ---------------------------------------------------------------------------------------------
# .meta templates

FOOTER = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"


def folder_meta(guid):
    return ("fileFormatVersion: 2\nguid: %s\nfolderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n" % guid) + FOOTER


def importer_meta(guid, importer):
    return ("fileFormatVersion: 2\nguid: %s\n%s:\n  externalObjects: {}\n" % (guid, importer)) + FOOTER


def script_meta(guid):
    return ("fileFormatVersion: 2\nguid: %s\nMonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n"
            "  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n" % guid) + FOOTER


# Native plugins: which platform each slot is for. "editor" is the Editor OS (None: not in the
# Editor); "standalone" the Standalone target; "mobile" Android/iOS.
PLUGINS = {
    "Plugins/Linux/x86_64/libfoleykit.so": dict(editor=("Linux", "x86_64"), standalone=("Linux64", "x86_64"),
                                                 magic="elf-x86_64"),
    "Plugins/Windows/x86_64/foleykit.dll": dict(editor=("Windows", "x86_64"), standalone=("Win64", "x86_64"),
                                                 magic="pe"),
    "Plugins/macOS/libfoleykit.dylib": dict(editor=("OSX", "AnyCPU"), standalone=("OSXUniversal", "AnyCPU"),
                                             magic="macho"),
    "Plugins/Android/arm64-v8a/libfoleykit.so": dict(mobile="Android", magic="elf-aarch64"),
    "Plugins/iOS/libfoleykit.a": dict(mobile="iOS", magic="ar"),
}
EXCLUDE_KEYS = ["Android", "Editor", "Linux64", "OSXUniversal", "WebGL", "Win", "Win64", "iOS"]
STANDALONES = [("Linux64", "x86_64"), ("OSXUniversal", "AnyCPU"), ("Win", "x86"), ("Win64", "x86_64")]


def plugin_meta(guid, spec):
    enabled = set()
    if "editor" in spec:
        enabled |= {"Editor", spec["standalone"][0]}
    else:
        enabled.add(spec["mobile"])
    lines = ["fileFormatVersion: 2", "guid: " + guid, "PluginImporter:", "  externalObjects: {}",
             "  serializedVersion: 2", "  iconMap: {}", "  executionOrder: {}", "  defineConstraints: []",
             "  isPreloaded: 0", "  isOverridable: 0", "  isExplicitlyReferenced: 0", "  validateReferences: 1",
             "  platformData:",
             "  - first:", "      '': Any", "    second:", "      enabled: 0", "      settings:"]
    for k in EXCLUDE_KEYS:
        lines.append("        Exclude %s: %d" % (k, 0 if k in enabled else 1))
    lines += ["  - first:", "      Android: Android", "    second:",
              "      enabled: %d" % ("Android" in enabled), "      settings:",
              "        CPU: %s" % ("ARM64" if "Android" in enabled else "ARMv7")]
    lines += ["  - first:", "      Any: ", "    second:", "      enabled: 0", "      settings: {}"]
    editor = spec.get("editor")
    lines += ["  - first:", "      Editor: Editor", "    second:", "      enabled: %d" % (editor is not None),
              "      settings:", "        CPU: %s" % (editor[1] if editor else "AnyCPU"),
              "        DefaultValueInitialized: true", "        OS: %s" % (editor[0] if editor else "AnyOS")]
    for target, cpu in STANDALONES:
        on = target in enabled
        lines += ["  - first:", "      Standalone: " + target, "    second:", "      enabled: %d" % on,
                  "      settings:", "        CPU: %s" % (cpu if on else "None")]
    lines += ["  - first:", "      iPhone: iOS", "    second:", "      enabled: %d" % ("iOS" in enabled),
              "      settings:", "        AddToEmbeddedBinaries: false", "        CPU: AnyCPU",
              "        CompileFlags: ", "        FrameworkDependencies: "]
    return "\n".join(lines) + "\n" + FOOTER


def meta_for(rel, is_dir, guid):
    if is_dir:
        return folder_meta(guid)
    if rel in PLUGINS:
        return plugin_meta(guid, PLUGINS[rel])
    if rel.endswith(".cs"):
        return script_meta(guid)
    if rel.endswith(".asmdef"):
        return importer_meta(guid, "AssemblyDefinitionImporter")
    if rel == "package.json":
        return importer_meta(guid, "PackageManifestImporter")
    if rel.endswith((".md", ".txt", ".json", ".bytes", ".xml")):
        return importer_meta(guid, "TextScriptImporter")
    return importer_meta(guid, "DefaultImporter")


def expected_importer(rel, is_dir):
    text = meta_for(rel, is_dir, "0" * 32)
    return re.search(r"^(\w+Importer):", text, re.M).group(1)


# ---------------------------------------------------------------------------------------------
# A strict parser for the block-style YAML subset Unity writes in .meta files


class YamlError(ValueError):
    pass


def _scalar(text, where):
    t = text.strip()
    if t == "" or t == "~" or t == "null":
        return None
    if t == "{}":
        return {}
    if t == "[]":
        return []
    if t.startswith("{") and t.endswith("}"):
        out = {}
        for part in t[1:-1].split(","):
            if ":" not in part:
                raise YamlError("%s: bad flow mapping %r" % (where, t))
            k, v = part.split(":", 1)
            out[k.strip()] = _scalar(v, where)
        return out
    if t.startswith("[") and t.endswith("]"):
        return [_scalar(p, where) for p in t[1:-1].split(",")] if t[1:-1].strip() else []
    if t[0] in "'\"":
        if len(t) < 2 or t[-1] != t[0]:
            raise YamlError("%s: unterminated quoted scalar %r" % (where, t))
        return t[1:-1]
    if t[0] in "&*!|>%@`" or t.startswith("- ") or ": " in t or t.endswith(":"):
        raise YamlError("%s: unsupported YAML %r" % (where, t))
    return t


def _split_key(body, where):
    """'key: value' / 'key:' / ": value" (empty key) -> (key, rest or None)."""
    if body.startswith("'") or body.startswith('"'):
        q = body[0]
        end = body.find(q, 1)
        if end < 0:
            raise YamlError("%s: unterminated quoted key" % where)
        key, rest = body[1:end], body[end + 1:]
    else:
        m = re.match(r"([^:#'\"]*)(:.*)?$", body)
        if not m or m.group(2) is None:
            raise YamlError("%s: expected 'key: value', got %r" % (where, body))
        key, rest = m.group(1), m.group(2)
    if not rest.startswith(":"):
        raise YamlError("%s: expected ':' after key %r" % (where, key))
    rest = rest[1:]
    if rest and not rest.startswith(" "):
        raise YamlError("%s: expected a space after ':' in %r" % (where, body))
    return key.strip(), (rest if rest.strip() else None)


def parse_yaml(text, name="<yaml>"):
    lines = []
    for i, raw in enumerate(text.split("\n"), 1):
        if "\t" in raw:
            raise YamlError("%s:%d: tab character" % (name, i))
        if raw.strip() == "" or raw.lstrip().startswith("#"):
            continue
        lines.append((i, len(raw) - len(raw.lstrip(" ")), raw.strip()))
    pos = [0]

    def block(indent):
        if pos[0] >= len(lines):
            return None
        _, ind, body = lines[pos[0]]
        if ind != indent:
            raise YamlError("%s:%d: expected indentation %d, got %d" % (name, lines[pos[0]][0], indent, ind))
        return seq(indent) if body.startswith("- ") or body == "-" else mapping(indent)

    def mapping(indent, first=None):
        out = {}
        while pos[0] < len(lines) or first is not None:
            if first is not None:
                lineno, body = first
                first = None
            else:
                lineno, ind, body = lines[pos[0]]
                if ind < indent:
                    break
                if ind > indent:
                    raise YamlError("%s:%d: unexpected indentation" % (name, lineno))
                if body.startswith("- "):
                    break
                pos[0] += 1
            where = "%s:%d" % (name, lineno)
            key, rest = _split_key(body, where)
            if key in out:
                raise YamlError("%s: duplicate key %r" % (where, key))
            if rest is not None:
                out[key] = _scalar(rest, where)
            elif pos[0] < len(lines) and (lines[pos[0]][1] > indent or
                                          (lines[pos[0]][1] == indent and lines[pos[0]][2].startswith("- "))):
                out[key] = block(lines[pos[0]][1])
            else:
                out[key] = None
        return out

    def seq(indent):
        out = []
        while pos[0] < len(lines):
            lineno, ind, body = lines[pos[0]]
            if ind != indent or not body.startswith("- "):
                if ind > indent:
                    raise YamlError("%s:%d: unexpected indentation" % (name, lineno))
                break
            pos[0] += 1
            item = body[2:].strip()
            if not item.startswith(("{", "[")) and re.match(r"^('[^']*'|\"[^\"]*\"|[^:'\"]*):( |$)", item):
                out.append(mapping(indent + 2, first=(lineno, item)))
            else:
                out.append(_scalar(item, "%s:%d" % (name, lineno)))
        return out

    doc = block(0)
    if pos[0] != len(lines):
        raise YamlError("%s:%d: trailing content" % (name, lines[pos[0]][0]))
    return doc


# ---------------------------------------------------------------------------------------------
# Checks


def binary_kind(path):
    with open(path, "rb") as f:
        head = f.read(64)
    if len(head) == 0:
        return "empty"
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        machine = int.from_bytes(head[18:20], "little")
        return {62: "elf-x86_64", 183: "elf-aarch64"}.get(machine, "elf-other")
    if head[:2] == b"MZ":
        return "pe"
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return "macho"
    if head[:8] == b"!<arch>\n":
        return "ar"
    return "unknown"


def check(root=ROOT):
    problems = []
    guids = {}
    entries = assets(root)
    try:
        import yaml  # noqa: F401  (a second opinion when available)
    except ImportError:
        yaml = None

    problems += check_metas(root, entries, "", guids, yaml)

    seen = {rel for rel, _ in entries}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not unity_ignores(d)]
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        for f in filenames:
            if f.endswith(".meta"):
                asset = f[:-5] if rel_dir == "." else rel_dir + "/" + f[:-5]
                if asset not in seen:
                    problems.append("orphan %s.meta (no such asset, or Unity ignores it)" % asset)
    for m in ignored_metas(root):
        problems.append("%s: .meta inside a folder Unity ignores" % m)

    problems += check_package_json(root)
    problems += check_samples(root, guids, yaml)
    for rel, is_dir in entries:
        if rel.endswith(".asmdef"):
            problems += check_asmdef(root, rel)
    return problems, len(entries), len(guids)


def check_metas(root, entries, prefix, guids, yaml):
    """The .meta of every entry (paths relative to root; shown with prefix); fills guids."""
    problems = []
    for rel, is_dir in entries:
        shown = prefix + rel
        meta = os.path.join(root, rel + ".meta")
        if not os.path.isfile(meta):
            problems.append("missing %s.meta" % shown)
            continue
        with open(meta, encoding="utf-8") as f:
            text = f.read()
        try:
            doc = parse_yaml(text, shown + ".meta")
        except YamlError as e:
            problems.append("invalid YAML: %s" % e)
            continue
        if yaml is not None:
            try:
                other = yaml.safe_load(text)
                if not isinstance(other, dict) or str(other.get("guid")) != str(doc.get("guid")):
                    problems.append("%s.meta: PyYAML reads it differently" % shown)
            except Exception as e:  # pragma: no cover
                problems.append("%s.meta: PyYAML: %s" % (rel, e))
        if not isinstance(doc, dict):
            problems.append("%s.meta: not a mapping" % shown)
            continue
        if doc.get("fileFormatVersion") != "2":
            problems.append("%s.meta: fileFormatVersion is not 2" % shown)
        guid = doc.get("guid") or ""
        if not re.fullmatch(r"[0-9a-f]{32}", guid):
            problems.append("%s.meta: guid %r is not 32 lowercase hex digits" % (shown, guid))
        elif guid in guids:
            problems.append("%s.meta: guid %s repeats %s.meta's" % (shown, guid, guids[guid]))
        else:
            guids[guid] = shown
        want = expected_importer(rel, is_dir)
        if want not in doc:
            problems.append("%s.meta: expected a %s" % (shown, want))
        if is_dir and doc.get("folderAsset") != "yes":
            problems.append("%s.meta: a folder's meta needs folderAsset: yes" % shown)
        if not is_dir and "folderAsset" in doc:
            problems.append("%s.meta: a file's meta must not say folderAsset" % shown)
        if rel in PLUGINS and want in doc:
            problems += check_plugin(rel, doc[want], os.path.join(root, rel))
    return problems


def check_samples(root, guids, yaml):
    """Each Samples~/<name> folder as Unity imports it once copied into Assets/: every file and
    folder has its .meta (GUIDs unique together with the package's), no orphans, and each scene
    (*.unity) passes check_scene."""
    problems = []
    base = os.path.join(root, "Samples~")
    if not os.path.isdir(base):
        return problems
    sample_entries = []
    for name in sorted(os.listdir(base)):
        folder = os.path.join(base, name)
        if not os.path.isdir(folder):
            if name.endswith(".meta"):
                problems.append("Samples~/%s: a sample folder itself has no .meta (Unity makes one)" % name)
            continue
        if unity_ignores(name):
            continue
        prefix = "Samples~/%s/" % name
        entries = assets(folder)
        sample_entries.append((folder, prefix, entries))
        problems += check_metas(folder, entries, prefix, guids, yaml)
        seen = {rel for rel, _ in entries}
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not unity_ignores(d)]
            rel_dir = os.path.relpath(dirpath, folder).replace(os.sep, "/")
            for f in filenames:
                if f.endswith(".meta"):
                    asset = f[:-5] if rel_dir == "." else rel_dir + "/" + f[:-5]
                    if asset not in seen:
                        problems.append("orphan %s%s.meta (no such asset, or Unity ignores it)" % (prefix, asset))
    scripts = script_guids(root)
    for folder, prefix, entries in sample_entries:
        for rel, is_dir in entries:
            if rel.endswith(".unity"):
                problems += check_scene(os.path.join(folder, rel), prefix + rel, scripts)
    for rel, is_dir in assets(root):
        if rel.endswith(".unity"):
            problems += check_scene(os.path.join(root, rel), rel, scripts)
    return problems


def script_guids(root):
    """guid -> (path, class name, RequireComponent types) for every .cs with a .meta (package and
    samples)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if any(unity_ignores(p) for p in rel_dir.split("/") if p != ".") and not inside_sample(rel_dir):
            continue
        for f in filenames:
            if not f.endswith(".cs") or not os.path.isfile(os.path.join(dirpath, f + ".meta")):
                continue
            with open(os.path.join(dirpath, f + ".meta"), encoding="utf-8") as m:
                g = re.search(r"^guid: *([0-9a-f]{32})\s*$", m.read(), re.M)
            with open(os.path.join(dirpath, f), encoding="utf-8") as src:
                code = src.read()
            if g:
                requires = re.findall(r"RequireComponent\(typeof\((\w+)\)\)", code)
                out[g.group(1)] = (f if rel_dir == "." else rel_dir + "/" + f, f[:-3], requires)
    return out


# Scene objects by class ID (https://docs.unity3d.com/Manual/ClassIDReference.html): the ones a
# hand-written scene may hold. Components carry m_GameObject.
SCENE_CLASSES = {
    1: "GameObject", 4: "Transform", 20: "Camera", 23: "MeshRenderer", 29: "OcclusionCullingSettings",
    33: "MeshFilter", 54: "Rigidbody", 59: "HingeJoint", 65: "BoxCollider", 81: "AudioListener",
    82: "AudioSource", 104: "RenderSettings", 108: "Light", 114: "MonoBehaviour", 135: "SphereCollider",
    136: "CapsuleCollider", 157: "LightmapSettings", 196: "NavMeshSettings",
}
SCENE_SETTINGS = (29, 104, 157, 196)
BUILTIN_GUIDS = ("0000000000000000e000000000000000", "0000000000000000f000000000000000")
SCENE_HEADER = ["%YAML 1.1", "%TAG !u! tag:unity3d.com,2011:"]


def _refs(node, path=""):
    """Every {fileID: ...} mapping inside a parsed document, with where it sits."""
    if isinstance(node, dict):
        if "fileID" in node:
            yield path, node
            return
        for k, v in node.items():
            yield from _refs(v, path + "." + k if path else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _refs(v, "%s[%d]" % (path, i))


def check_scene(path, shown, scripts):
    """A text-serialized Unity scene: the header; every document `--- !u!<classID> &<fileID>`
    (known class, unique fileID) parses as YAML (this file's parser, and PyYAML with the !u! tags
    when installed) into one mapping named after its class; every {fileID: N} without a guid
    points at an object of the scene (or is 0); references with a guid are to Unity's built-in
    resources or, for m_Script, to a script .meta of the package or its samples
    (fileID 11500000, type 3); GameObject.m_Component lists and components' m_GameObject agree;
    each GameObject has one Transform, listed first; Transform parents and children agree; the
    scene settings objects are there once each; and a script's [RequireComponent(typeof(X))] is met
    on its GameObject."""
    problems = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    if lines[:2] != SCENE_HEADER:
        return ["%s: does not start with the text-scene header %r" % (shown, SCENE_HEADER)]
    docs = {}  # fileID -> (classID, type name, body)
    current = None
    chunks = []
    for i, line in enumerate(lines[2:], 3):
        m = re.fullmatch(r"--- !u!(\d+) &(-?\d+)( stripped)?", line)
        if m:
            current = [int(m.group(1)), int(m.group(2)), i, []]
            chunks.append(current)
        elif line.startswith("---") or line.startswith("%"):
            problems.append("%s:%d: unexpected %r" % (shown, i, line))
        elif current is None:
            if line.strip():
                problems.append("%s:%d: content before the first document" % (shown, i))
        else:
            current[3].append(line)
    for cls, fid, lineno, body in chunks:
        where = "%s:%d" % (shown, lineno)
        if cls not in SCENE_CLASSES:
            problems.append("%s: class ID %d is not one this check knows" % (where, cls))
            continue
        if fid in docs or fid == 0:
            problems.append("%s: fileID %d repeats or is 0" % (where, fid))
            continue
        try:
            doc = parse_yaml("\n".join(body), where)
        except YamlError as e:
            problems.append("%s: invalid YAML: %s" % (shown, e))
            continue
        if not isinstance(doc, dict) or list(doc) != [SCENE_CLASSES[cls]] or not isinstance(doc[SCENE_CLASSES[cls]], dict):
            problems.append("%s: expected one mapping %s: for class %d" % (where, SCENE_CLASSES[cls], cls))
            continue
        docs[fid] = (cls, SCENE_CLASSES[cls], doc[SCENE_CLASSES[cls]], where)
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        class Loader(yaml.SafeLoader):
            pass
        Loader.add_multi_constructor("tag:unity3d.com,2011:", lambda loader, suffix, node: loader.construct_mapping(node, deep=True))
        try:
            # Unity states %TAG once; YAML scopes a directive to one document, so repeat it.
            body = "\n".join(lines[2:]).replace("\n--- ", "\n%s\n--- " % SCENE_HEADER[1])
            n = len([d for d in yaml.load_all(SCENE_HEADER[1] + "\n" + body, Loader=Loader)])
            if n != len(chunks):
                problems.append("%s: PyYAML reads %d documents, expected %d" % (shown, n, len(chunks)))
        except yaml.YAMLError as e:
            problems.append("%s: PyYAML: %s" % (shown, str(e).replace("\n", " ")))
    if problems:
        return problems

    for cls in SCENE_SETTINGS:
        n = sum(1 for d in docs.values() if d[0] == cls)
        if n != 1:
            problems.append("%s: %d %s objects, expected 1" % (shown, n, SCENE_CLASSES[cls]))

    for fid, (cls, name, obj, where) in docs.items():
        for at, ref in _refs(obj):
            try:
                target = int(ref.get("fileID"))
            except (TypeError, ValueError):
                problems.append("%s: %s.%s: fileID %r is not a number" % (where, name, at, ref.get("fileID")))
                continue
            guid = ref.get("guid")
            if at == "m_Script":
                info = scripts.get(guid)
                if info is None:
                    problems.append("%s: %s.m_Script guid %s is no script .meta of the package" % (where, name, guid))
                elif target != 11500000 or ref.get("type") != "3":
                    problems.append("%s: m_Script of %s should be {fileID: 11500000, guid, type: 3}" % (where, info[0]))
            elif guid is not None:
                if guid not in BUILTIN_GUIDS:
                    problems.append("%s: %s.%s refers to guid %s, not a built-in resource" % (where, name, at, guid))
            elif target != 0 and target not in docs:
                problems.append("%s: %s.%s: fileID %d is not an object of the scene" % (where, name, at, target))
        if cls == 114 and obj.get("m_Script", {}).get("fileID") in (None, "0"):
            problems.append("%s: a MonoBehaviour without a script" % where)

    def kind(fid):
        cls, name, obj, _ = docs[fid]
        if cls == 114:
            info = scripts.get((obj.get("m_Script") or {}).get("guid"))
            return info[1] if info else None
        return name

    def ref_id(r):
        return int(r["fileID"]) if isinstance(r, dict) and "fileID" in r else 0

    for fid, (cls, name, obj, where) in docs.items():
        if cls == 1:
            comps = [ref_id(c.get("component")) if isinstance(c, dict) else 0 for c in obj.get("m_Component") or []]
            if not comps or comps[0] not in docs or docs[comps[0]][0] != 4:
                problems.append("%s: GameObject %r: the first component must be its Transform" % (where, obj.get("m_Name")))
            if sum(1 for c in comps if c in docs and docs[c][0] == 4) > 1:
                problems.append("%s: GameObject %r has several Transforms" % (where, obj.get("m_Name")))
            kinds = [kind(c) for c in comps if c in docs]
            for c in comps:
                if c not in docs:
                    continue
                if docs[c][0] in (1,) + SCENE_SETTINGS:
                    problems.append("%s: GameObject %r lists a %s as a component" % (where, obj.get("m_Name"), docs[c][1]))
                elif ref_id(docs[c][2].get("m_GameObject")) != fid:
                    problems.append("%s: GameObject %r lists %s &%d, whose m_GameObject is another" % (where, obj.get("m_Name"), docs[c][1], c))
                if docs[c][0] == 114:
                    info = scripts.get((docs[c][2].get("m_Script") or {}).get("guid"))
                    for req in (info[2] if info else []):
                        if req not in kinds:
                            problems.append("%s: GameObject %r: %s requires a %s" % (where, obj.get("m_Name"), info[1], req))
        elif cls not in SCENE_SETTINGS:
            owner = ref_id(obj.get("m_GameObject"))
            if owner not in docs or docs[owner][0] != 1:
                problems.append("%s: %s &%d has no GameObject" % (where, name, fid))
            elif fid not in [ref_id(c.get("component")) for c in docs[owner][2].get("m_Component") or [] if isinstance(c, dict)]:
                problems.append("%s: %s &%d is missing from its GameObject's m_Component" % (where, name, fid))
            if cls == 4:
                father = ref_id(obj.get("m_Father"))
                if father and fid not in [ref_id(c) for c in docs[father][2].get("m_Children") or []]:
                    problems.append("%s: Transform &%d is not among its m_Father's m_Children" % (where, fid))
                for c in obj.get("m_Children") or []:
                    c = ref_id(c)
                    if c not in docs or docs[c][0] != 4 or ref_id(docs[c][2].get("m_Father")) != fid:
                        problems.append("%s: Transform &%d lists child &%d whose m_Father is another" % (where, fid, c))
    return problems


def check_plugin(rel, importer, path):
    spec = PLUGINS[rel]
    problems = []
    data = importer.get("platformData")
    if not isinstance(data, list):
        return ["%s.meta: PluginImporter.platformData is not a list" % rel]
    enabled = set()
    excludes = {}
    for item in data:
        first = item.get("first") or {}
        second = item.get("second") or {}
        (group, target), = first.items() if len(first) == 1 else ((None, None),)
        if group == "" and target == "Any":
            excludes = second.get("settings") or {}
        elif second.get("enabled") == "1":
            enabled.add(target)
    want = {"Editor", spec["standalone"][0]} if "editor" in spec else {spec["mobile"]}
    if enabled != want:
        problems.append("%s.meta: enabled platforms %s, expected %s" % (rel, sorted(enabled), sorted(want)))
    for k in EXCLUDE_KEYS:
        if excludes.get("Exclude " + k) != ("0" if k in want else "1"):
            problems.append("%s.meta: 'Exclude %s' should be %d" % (rel, k, 0 if k in want else 1))
    kind = binary_kind(path)
    if kind not in ("empty", spec["magic"]):
        problems.append("%s: a %s binary where a %s belongs" % (rel, kind, spec["magic"]))
    return problems


def check_package_json(root):
    problems = []
    try:
        with open(os.path.join(root, "package.json"), encoding="utf-8") as f:
            pkg = json.load(f)
    except (OSError, ValueError) as e:
        return ["package.json: %s" % e]
    if not re.fullmatch(r"com\.[a-z0-9-]+\.[a-z0-9.-]+", pkg.get("name", "")):
        problems.append("package.json: name %r is not reverse-domain lowercase" % pkg.get("name"))
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", pkg.get("version", "")):
        problems.append("package.json: version %r is not semver" % pkg.get("version"))
    if not re.fullmatch(r"\d{4}\.\d+", pkg.get("unity", "")):
        problems.append("package.json: unity %r is not YYYY.N" % pkg.get("unity"))
    for key in ("displayName", "description"):
        if not pkg.get(key):
            problems.append("package.json: %s is missing" % key)
    for s in pkg.get("samples", []):
        path = s.get("path", "")
        if not path.startswith("Samples~/") or not os.path.isdir(os.path.join(root, path)):
            problems.append("package.json: sample path %r is not a folder under Samples~" % path)
        if not s.get("displayName"):
            problems.append("package.json: a sample lacks displayName")
    return problems


def check_asmdef(root, rel):
    try:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            asm = json.load(f)
    except (OSError, ValueError) as e:
        return ["%s: %s" % (rel, e)]
    problems = []
    name = asm.get("name", "")
    if not name or os.path.basename(rel) != name + ".asmdef":
        problems.append("%s: name %r should match the file name" % (rel, name))
    for key in ("references", "includePlatforms", "excludePlatforms", "defineConstraints", "precompiledReferences"):
        if key in asm and not isinstance(asm[key], list):
            problems.append("%s: %s is not a list" % (rel, key))
    if asm.get("includePlatforms") and asm.get("excludePlatforms"):
        problems.append("%s: includePlatforms and excludePlatforms are exclusive" % rel)
    if "/Tests/" in "/" + rel or rel.startswith("Tests/"):
        if "UNITY_INCLUDE_TESTS" not in asm.get("defineConstraints", []):
            problems.append("%s: a test assembly needs defineConstraints UNITY_INCLUDE_TESTS" % rel)
        if asm.get("autoReferenced", True):
            problems.append("%s: a test assembly should not be autoReferenced" % rel)
    return problems


def generate(root=ROOT):
    made = 0
    for rel, is_dir in assets(root):
        meta = os.path.join(root, rel + ".meta")
        if os.path.exists(meta):
            continue
        with open(meta, "w", encoding="utf-8", newline="\n") as f:
            f.write(meta_for(rel, is_dir, uuid.uuid4().hex))
        made += 1
        print("wrote %s.meta" % rel)
    print("%d .meta files written" % made)


def main(argv):
    if len(argv) != 2 or argv[1] not in ("check", "generate"):
        print(__doc__)
        return 2
    if argv[1] == "generate":
        generate()
        return 0
    problems, n_assets, n_guids = check()
    for p in problems:
        print("unity package: " + p)
    print("unity (package): %d assets with .meta, %d unique GUIDs, %d problems" % (n_assets, n_guids, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
