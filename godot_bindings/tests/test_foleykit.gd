## Tests of the FoleyKitPlayer node against the real extension and the real default models
## (res://models/*.fkm, copied in by the build from sdk/foleykit/models/default).
##
## Model tests SKIP only while libfoleykit lacks the model runtime (fk_model_load); once it has
## it they run, and a missing .fkm is a failure. The class is reached through ClassDB (not by
## name) so that a missing extension fails the tests instead of breaking this script's parse.
extends RefCounted

const ONESHOTS := "res://models/oneshots.fkm"
const AMBIENCES := "res://models/ambiences.fkm"
const API := ["version", "has_model_runtime", "load_model", "unload_model", "is_model_loaded",
		"get_model_info", "get_controls", "render_one_shot", "play_one_shot", "start_ambience",
		"set_ambience_controls", "stop_ambience", "is_ambience_playing", "stop_all", "fill",
		"get_active_voices", "get_frames_pushed", "get_last_error", "get_player",
		"set_output_player", "get_sample_rate", "set_model_path", "get_model_path",
		"set_latency", "get_latency", "trigger", "stop_voice", "get_ambience_voice",
		"render_offline"]

var runner: SceneTree
var failures: Array[String] = []
var skip_reason := ""
var _nodes: Array[Node] = []
var _captures := 0


# ---- harness ---------------------------------------------------------------------------------

func begin(_name: String) -> void:
	failures.clear()
	skip_reason = ""


func finish() -> void:
	for n in _nodes:
		if is_instance_valid(n):
			n.free()
	_nodes.clear()
	while _captures > 0:
		AudioServer.remove_bus_effect(0, AudioServer.get_bus_effect_count(0) - 1)
		_captures -= 1


func check(cond: bool, msg: String) -> bool:
	if not cond:
		failures.append(msg)
	return cond


func skip(reason: String) -> void:
	skip_reason = reason


## The runner hands over every error logged during the test that no expect_logged consumed.
func unexpected_error(e: Dictionary) -> void:
	failures.append("unexpected error in Godot's log: %s at %s" % [e.text.strip_edges(), e.where])


## Consumes the errors logged since the last call; at least one must contain `needle`.
func expect_logged(needle: String) -> void:
	if runner.catcher == null:
		return
	var errs: Array[Dictionary] = runner.catcher.take()
	var found := false
	for e in errs:
		if needle.to_lower() in String(e.text).to_lower():
			found = true
		elif e.script:  # a script error is never what a test expects
			unexpected_error(e)
	check(found, "expected an error containing '%s' in Godot's log; got %s" % [needle,
			str(errs.map(func(e): return e.text.strip_edges()))])


func make_player(in_tree := true) -> Node:
	var p: Node = ClassDB.instantiate("FoleyKitPlayer")
	if p == null:
		return null
	_nodes.append(p)
	if in_tree:
		runner.root.add_child(p)
	return p


func need_player() -> Node:
	var p := make_player()
	check(p != null, "FoleyKitPlayer cannot be instantiated (the extension did not load)")
	return p


## A model test's player with `path` loaded; null (test skipped or failed) otherwise.
func model_player(path: String) -> Node:
	var p := need_player()
	if p == null:
		return null
	if not p.has_model_runtime():
		skip("libfoleykit %s has no model runtime (fk_model_load) yet" % p.version())
		return null
	if not check(FileAccess.file_exists(path), "%s is missing: export the default models to .fkm "
			% path + "(sdk/foleykit/models/default) and rebuild"):
		return null
	if not check(p.load_model(path), "load_model(%s) failed: %s" % [path, p.get_last_error()]):
		return null
	return p


func wait_seconds(seconds: float) -> void:
	var t0 := Time.get_ticks_msec()
	while Time.get_ticks_msec() - t0 < seconds * 1000.0:
		await runner.process_frame


func start_capture() -> AudioEffectCapture:
	var cap := AudioEffectCapture.new()
	cap.buffer_length = 4.0
	AudioServer.add_bus_effect(0, cap)
	_captures += 1
	return cap


## {frames, peak, finite} of what the Master bus played since the capture started.
func captured(cap: AudioEffectCapture) -> Dictionary:
	var buf := cap.get_buffer(cap.get_frames_available())
	var peak := 0.0
	var finite := true
	for f in buf:
		if not (is_finite(f.x) and is_finite(f.y)):
			finite = false
		peak = maxf(peak, maxf(absf(f.x), absf(f.y)))
	return {"frames": buf.size(), "peak": peak, "finite": finite}


func stats(x: PackedFloat32Array) -> Dictionary:
	var peak := 0.0
	var sumsq := 0.0
	var finite := true
	for v in x:
		if not is_finite(v):
			finite = false
			continue
		peak = maxf(peak, absf(v))
		sumsq += v * v
	return {"peak": peak, "rms": sqrt(sumsq / maxf(1.0, x.size())), "finite": finite}


# ---- the extension ---------------------------------------------------------------------------

func test_extension_loads() -> void:
	if not check(ClassDB.class_exists("FoleyKitPlayer"), "class FoleyKitPlayer is not registered "
			+ "(is res://addons/foleykit/foleykit.gdextension loaded? see .godot/extension_list.cfg)"):
		return
	check(ClassDB.is_parent_class("FoleyKitPlayer", "Node"), "FoleyKitPlayer should extend Node")
	var p := need_player()
	if p == null:
		return
	check(p.is_class("FoleyKitPlayer"), "instance reports class %s" % p.get_class())
	for m in API:
		check(p.has_method(m), "method %s() is not registered" % m)
	var player = p.get_player()
	check(player is AudioStreamPlayer, "get_player() should be the internal AudioStreamPlayer, got %s" % player)
	if player is AudioStreamPlayer:
		check(player.stream is AudioStreamGenerator, "the player's stream should be an AudioStreamGenerator")


func test_version() -> void:
	var p := need_player()
	if p == null:
		return
	var v: String = p.version()
	check(RegEx.create_from_string("^\\d+\\.\\d+\\.\\d+$").search(v) != null, "version() = '%s'" % v)
	var want: String = runner.args.get("expect-version", "")
	if want != "":
		check(v == want, "version() = %s, the header says %s" % [v, want])


func test_properties() -> void:
	var p := need_player()
	if p == null:
		return
	check(is_equal_approx(p.latency, 0.05), "default latency %s" % p.latency)
	p.latency = 0.1
	check(is_equal_approx(p.get_latency(), 0.1), "latency setter")
	p.latency = 100.0
	expect_logged("latency must be within")
	check(is_equal_approx(p.latency, 0.1), "a bad latency must be refused")
	check(p.model_path == "", "model_path starts empty")
	var names := []
	for prop in p.get_property_list():
		names.append(prop.name)
	check("model_path" in names and "latency" in names, "properties model_path, latency not listed")


func test_load_missing_file_reports_error() -> void:
	var p := need_player()
	if p == null:
		return
	check(p.load_model("/nonexistent/foleykit/missing.fkm") == false, "load_model(missing) returned true")
	check(p.get_last_error() != "", "get_last_error() is empty after a failed load")
	expect_logged("load_model")
	check(p.load_model("res://models/does_not_exist.fkm") == false, "load_model(res://missing) returned true")
	expect_logged("does_not_exist.fkm")
	check(p.load_model("") == false, "load_model('') returned true")
	expect_logged("empty path")
	check(not p.is_model_loaded(), "a model is loaded after failed loads")


func test_load_corrupt_file_reports_error() -> void:
	var p := need_player()
	if p == null:
		return
	var f := FileAccess.open("user://corrupt.fkm", FileAccess.WRITE)
	f.store_string("FKM\u0001 this is not a FoleyKit model; " + "garbage ".repeat(200))
	f.close()
	var path := ProjectSettings.globalize_path("user://corrupt.fkm")
	check(p.load_model(path) == false, "load_model(corrupt file) returned true")
	expect_logged("load_model")
	check(p.load_model("user://corrupt.fkm") == false, "load_model(user://corrupt) returned true")
	expect_logged("corrupt.fkm")
	# A truncated copy of a real model, when there is one.
	if FileAccess.file_exists(ONESHOTS):
		var bytes := FileAccess.get_file_as_bytes(ONESHOTS)
		var t := FileAccess.open("user://truncated.fkm", FileAccess.WRITE)
		t.store_buffer(bytes.slice(0, bytes.size() / 2))
		t.close()
		check(p.load_model("user://truncated.fkm") == false, "load_model(truncated model) returned true")
		expect_logged("truncated.fkm")
	check(not p.is_model_loaded(), "a model is loaded after failed loads")


func test_calls_without_model_fail_cleanly() -> void:
	var p := need_player()
	if p == null:
		return
	check(p.play_one_shot({"category": "impact"}, 1) == false, "play_one_shot without a model returned true")
	expect_logged("play_one_shot")
	check(p.render_one_shot({}, 1).is_empty(), "render_one_shot without a model returned samples")
	expect_logged("render_one_shot")
	check(p.start_ambience({}, 1) == false, "start_ambience without a model returned true")
	expect_logged("start_ambience")
	check(p.set_ambience_controls({}) == false, "set_ambience_controls without a model returned true")
	expect_logged("set_ambience_controls")
	p.stop_ambience()
	p.stop_all()
	check(p.get_controls().is_empty(), "get_controls() without a model")
	check(p.get_model_info().is_empty(), "get_model_info() without a model")
	check(p.get_sample_rate() == 0.0, "get_sample_rate() without a model")
	check(p.fill() == 0, "fill() without a model pushed frames")
	var plain := Node.new()
	_nodes.append(plain)
	check(p.set_output_player(plain) == false, "set_output_player(Node) should be refused")
	expect_logged("set_output_player")
	check(p.set_output_player(null) == true, "set_output_player(null) should select the internal player")


func test_typed_calls_use_ptrcall() -> void:
	if not check(ClassDB.class_exists("FoleyKitPlayer"), "class FoleyKitPlayer is not registered"):
		return
	var script = load("res://typed_calls.gd")
	if not check(script != null, "res://typed_calls.gd does not compile"):
		return
	for f in script.new().run(runner.root, ONESHOTS):
		failures.append(f)


# ---- with the real models --------------------------------------------------------------------

func test_load_oneshots_model() -> void:
	var p := model_player(ONESHOTS)
	if p == null:
		return
	check(p.is_model_loaded(), "is_model_loaded()")
	var info: Dictionary = p.get_model_info()
	check(info.get("mode") == "one_shot", "mode %s" % info.get("mode"))
	check(info.get("family") == "vae", "family %s" % info.get("family"))
	check(is_equal_approx(p.get_sample_rate(), 48000.0), "sample rate %s" % p.get_sample_rate())
	check(info.get("max_frames", 0) > 0, "max_frames %s" % info.get("max_frames"))
	var controls: Array = p.get_controls()
	check(controls.size() == info.get("control_count", -1), "get_controls() size")
	var by_name := {}
	for c in controls:
		by_name[c.name] = c
	check(by_name.has("category") and by_name.category.kind == "categorical"
			and "impact" in by_name.category.choices and "footstep" in by_name.category.choices,
			"category control: %s" % by_name.get("category"))
	check(by_name.has("velocity") and by_name.velocity.kind == "continuous"
			and is_equal_approx(by_name.velocity.low, 0.2) and is_equal_approx(by_name.velocity.high, 10.0),
			"velocity control: %s" % by_name.get("velocity"))
	# The same through an absolute path and through the model_path property.
	var q := make_player()
	check(q.load_model(ProjectSettings.globalize_path(ONESHOTS)), "load_model(absolute path): %s" % q.get_last_error())
	var r := make_player(false)
	r.model_path = ONESHOTS
	check(r.is_model_loaded() and r.model_path == ONESHOTS, "model_path property did not load the model")


func test_load_onnx_is_rejected() -> void:
	var p := need_player()
	if p == null:
		return
	if not p.has_model_runtime():
		skip("libfoleykit %s has no model runtime (fk_model_load) yet" % p.version())
		return
	var repo: String = runner.args.get("repo", "")
	var onnx := repo.path_join("sdk/foleykit/models/default/oneshots.onnx")
	if repo == "" or not FileAccess.file_exists(onnx):
		skip("no --repo=<root> given (needs sdk/foleykit/models/default/oneshots.onnx)")
		return
	check(p.load_model(onnx) == false, "load_model(.onnx) returned true")
	expect_logged(".fkm")


func test_render_is_deterministic_and_sounds() -> void:
	var p := model_player(ONESHOTS)
	if p == null:
		return
	var c := {"category": "impact", "material": "metal", "velocity": 6.0}
	var a: PackedFloat32Array = p.render_one_shot(c, 7)
	var b: PackedFloat32Array = p.render_one_shot(c, 7)
	var d: PackedFloat32Array = p.render_one_shot(c, 8)
	if not check(a.size() > 1000, "render_one_shot gave %d samples: %s" % [a.size(), p.get_last_error()]):
		return
	var s := stats(a)
	check(s.finite, "non-finite samples")
	check(s.peak > 1e-3 and s.peak < 8.0, "peak %f is silent or absurd" % s.peak)
	check(a == b, "same controls and seed gave different samples")
	check(a != d, "seeds 7 and 8 gave identical samples")
	# Other categories, by choice name and by index.
	var f: PackedFloat32Array = p.render_one_shot({"category": "footstep", "surface": "gravel", "force": 0.8}, 1)
	check(f.size() > 0 and stats(f).peak > 1e-4, "footstep is silent")
	var g: PackedFloat32Array = p.render_one_shot({"category": 1, "surface": 0}, 1)
	check(g.size() > 0, "choices by index: %s" % p.get_last_error())
	# Louder with velocity (the model follows its main control by ~13 dB).
	var lo := 0.0
	var hi := 0.0
	for seed in range(4):
		lo += stats(p.render_one_shot({"category": "impact", "velocity": 0.5}, seed)).rms
		hi += stats(p.render_one_shot({"category": "impact", "velocity": 9.0}, seed)).rms
	check(hi > lo, "impact velocity 9 (rms %f) is not louder than 0.5 (rms %f)" % [hi, lo])


func test_play_one_shot_samples_arrive() -> void:
	var p := model_player(ONESHOTS)
	if p == null:
		return
	var cap := start_capture()
	await wait_seconds(0.1)
	cap.clear_buffer()
	var finished: Array = []
	p.voice_finished.connect(func(id: int): finished.append(id))
	check(p.play_one_shot({"category": "impact", "material": "wood", "velocity": 8.0}, 3), "play_one_shot: %s" % p.get_last_error())
	check(p.get_active_voices() == 1, "active voices %d after one play" % p.get_active_voices())
	check(p.play_one_shot({"category": "footstep", "surface": "wood"}, 4, -6.0), "a second, overlapping one-shot: %s" % p.get_last_error())
	await wait_seconds(1.2)
	check(p.get_frames_pushed() > 20000, "only %d frames pushed into the generator" % p.get_frames_pushed())
	check(p.get_active_voices() == 0, "%d voices still active after the clips ended" % p.get_active_voices())
	check(finished.size() == 2, "voice_finished emitted %d times for 2 one-shots (from _process)" % finished.size())
	var got := captured(cap)
	check(got.frames > 20000, "the Master bus played only %d frames" % got.frames)
	check(got.finite, "non-finite samples on the Master bus")
	check(got.peak > 1e-3, "the Master bus stayed silent (peak %f)" % got.peak)
	# When nothing plays, nothing is pushed.
	var pushed: int = p.get_frames_pushed()
	await wait_seconds(0.2)
	check(p.get_frames_pushed() == pushed, "frames pushed while idle")


func test_bad_controls_are_reported() -> void:
	var p := model_player(ONESHOTS)
	if p == null:
		return
	check(p.play_one_shot({"colour": "red"}, 1) == false, "unknown control accepted")
	expect_logged("unknown control 'colour'")
	check("colour" in p.get_last_error(), "get_last_error(): %s" % p.get_last_error())
	check(p.play_one_shot({"velocity": 50.0}, 1) == false, "velocity 50 (range 0.2..10) accepted")
	expect_logged("out of range")
	check(p.play_one_shot({"velocity": NAN}, 1) == false, "velocity NaN accepted")
	expect_logged("velocity")
	check(p.play_one_shot({"material": "cheese"}, 1) == false, "material 'cheese' accepted")
	expect_logged("no choice 'cheese'")
	check(p.play_one_shot({"material": 99}, 1) == false, "material index 99 accepted")
	expect_logged("out of range")
	check(p.play_one_shot({"velocity": "fast"}, 1) == false, "velocity 'fast' accepted")
	expect_logged("takes a number")
	check(p.play_one_shot({7: 1.0}, 1) == false, "a non-String control name accepted")
	expect_logged("control names must be Strings")
	check(p.render_one_shot({"velocity": -1.0}, 1).is_empty(), "render_one_shot with a bad value returned samples")
	expect_logged("out of range")
	check(p.get_active_voices() == 0, "a refused one-shot started a voice")
	check(p.start_ambience({}, 1) == false, "start_ambience on a one-shot model accepted")
	expect_logged("one-shot model")
	# Still works afterwards.
	check(p.play_one_shot({"category": "ui", "kind": "click"}, 1), "a good call after bad ones: %s" % p.get_last_error())
	check(p.get_last_error() == "", "get_last_error() not cleared by a good call")


func test_ambience_plays_and_follows_controls() -> void:
	var p := model_player(AMBIENCES)
	if p == null:
		return
	check(p.get_model_info().get("mode") == "step", "ambiences model mode %s" % p.get_model_info().get("mode"))
	check(p.play_one_shot({}, 1) == false, "play_one_shot on an ambience model accepted")
	expect_logged("ambience")
	var cap := start_capture()
	await wait_seconds(0.1)
	cap.clear_buffer()
	check(p.start_ambience({"category": "rain", "intensity": 0.8}, 5), "start_ambience: %s" % p.get_last_error())
	check(p.is_ambience_playing(), "is_ambience_playing() after start")
	await wait_seconds(0.8)
	check(p.set_ambience_controls({"intensity": 0.2}), "set_ambience_controls: %s" % p.get_last_error())
	check(p.set_ambience_controls({"bogus": 1.0}) == false, "unknown ambience control accepted")
	expect_logged("unknown control 'bogus'")
	check(p.set_ambience_controls({"intensity": 3.0}) == false, "intensity 3 (range 0..1) accepted")
	expect_logged("out of range")
	await wait_seconds(0.4)
	var pushed: int = p.get_frames_pushed()
	var got := captured(cap)
	var skips: int = p.get_player().get_stream_playback().get_skips()
	print("     ambience: %d frames pushed, %d played by the Master bus, %d generator skips" % [pushed, got.frames, skips])
	# Godot's Dummy driver (headless) mixes 4096-frame blocks; the node adapts its queue to that.
	check(pushed > 24000, "only %d ambience frames pushed in 1.2 s" % pushed)
	check(pushed > got.frames * 0.75, "%d frames pushed but the Master bus played %d: the ambience underruns (%d skips)" % [pushed, got.frames, skips])
	check(got.frames > 24000, "the Master bus played only %d frames" % got.frames)
	check(got.finite, "non-finite samples on the Master bus")
	check(got.peak > 1e-3, "the ambience is silent on the Master bus (peak %f)" % got.peak)
	p.stop_ambience()
	check(not p.is_ambience_playing(), "is_ambience_playing() after stop")
	await wait_seconds(0.3)
	var after: int = p.get_frames_pushed()
	await wait_seconds(0.2)
	check(p.get_frames_pushed() == after, "still pushing after stop_ambience and its tail")



func test_output_player_and_tree_changes() -> void:
	var p := model_player(ONESHOTS)
	if p == null:
		return
	var p2d := AudioStreamPlayer2D.new()
	_nodes.append(p2d)
	runner.root.add_child(p2d)
	check(p.set_output_player(p2d), "set_output_player(AudioStreamPlayer2D): %s" % p.get_last_error())
	check(p.get_player() == p2d, "get_player() is not the given player")
	check(p.play_one_shot({"category": "glass_break"}, 2), p.get_last_error())
	await wait_seconds(0.1)
	check(p2d.stream is AudioStreamGenerator and p2d.playing, "the given player does not play the generator")
	check(p.get_frames_pushed() > 0, "nothing pushed to the given player")
	# Freeing the given player falls back to the internal one, without errors.
	p2d.free()
	check(p.get_player() is AudioStreamPlayer, "after freeing the output, get_player() = %s" % p.get_player())
	# Out of the tree and back while a sound plays.
	var before: int = p.get_frames_pushed()
	check(p.play_one_shot({"category": "explosion", "distance": 30.0}, 5), p.get_last_error())
	runner.root.remove_child(p)
	await wait_seconds(0.1)
	runner.root.add_child(p)
	await wait_seconds(0.3)
	check(p.get_frames_pushed() > before, "no frames pushed after leaving and re-entering the tree")
	# Freed while playing: no crash, no error.
	check(p.play_one_shot({"category": "whoosh"}, 6), p.get_last_error())
	p.free()
	await wait_seconds(0.1)



# ---- the engine (fk_engine) behind the node ---------------------------------------------------

## A player outside the tree (so nothing pulls its engine but render_offline) with `paths` loaded.
func offline_player(paths: Array) -> Node:
	var p := make_player(false)
	if not check(p != null, "FoleyKitPlayer cannot be instantiated"):
		return null
	if not p.has_model_runtime():
		skip("libfoleykit %s has no model runtime / engine yet" % p.version())
		return null
	for path in paths:
		if not check(p.load_model(path), "load_model(%s) failed: %s" % [path, p.get_last_error()]):
			return null
	return p


## Stereo stats over frames [from, to) of an interleaved buffer.
func stereo_stats(x: PackedFloat32Array, from := 0, to := -1) -> Dictionary:
	if to < 0:
		to = x.size() / 2
	return stats(x.slice(from * 2, to * 2))


func test_engine_trigger_is_deterministic() -> void:
	var a := offline_player([ONESHOTS])
	var b := offline_player([ONESHOTS])
	var c := offline_player([ONESHOTS])
	if a == null or b == null or c == null:
		return
	var ctl := {"category": "impact", "material": "metal", "velocity": 6.0}
	var va: int = a.trigger(ctl, 7)
	check(va != 0, "trigger returned 0: %s" % a.get_last_error())
	check(b.trigger(ctl, 7) != 0, "trigger: %s" % b.get_last_error())
	check(c.trigger(ctl, 8, -3.0, 0.5) != 0, "trigger with volume and pan: %s" % c.get_last_error())
	check(a.get_active_voices() == 1, "active voices %d after one trigger" % a.get_active_voices())
	var xa: PackedFloat32Array = a.render_offline(48000)
	var xb: PackedFloat32Array = b.render_offline(48000)
	var xc: PackedFloat32Array = c.render_offline(48000)
	if not check(xa.size() == 96000, "render_offline(48000) gave %d floats: %s" % [xa.size(), a.get_last_error()]):
		return
	var s := stats(xa)
	check(s.finite, "non-finite samples from the engine")
	check(s.peak > 1e-3 and s.peak < 8.0, "engine one-shot peak %f is silent or absurd" % s.peak)
	check(xa == xb, "same controls and seed gave different engine output")
	check(xa != xc, "another seed / gain / pan gave identical engine output")
	# Panned right: the right channel is louder than the left.
	var l := 0.0
	var r := 0.0
	for i in range(0, xc.size(), 2):
		l += xc[i] * xc[i]
		r += xc[i + 1] * xc[i + 1]
	check(r > l, "pan 0.5: right energy %f is not above left %f" % [r, l])


func test_engine_events_and_voice_finished() -> void:
	var p := offline_player([ONESHOTS])
	if p == null:
		return
	var finished: Array = []
	var types: Array = []
	p.voice_finished.connect(func(id: int): finished.append(id))
	p.engine_event.connect(func(e: Dictionary): types.append(e.type))
	var v1: int = p.trigger({"category": "ui", "kind": "click"}, 1)
	var v2: int = p.trigger({"category": "impact", "velocity": 3.0}, 2)
	check(v1 != 0 and v2 != 0 and v1 != v2, "voice ids %d, %d" % [v1, v2])
	p.render_offline(48000 * 3)  # every one-shot is at most 2 s
	check(v1 in finished and v2 in finished, "voice_finished got %s, expected %d and %d" % [finished, v1, v2])
	check("voice_started" in types and "voice_ended" in types, "engine_event types %s" % [types])
	check(p.get_active_voices() == 0, "%d voices active after they ended" % p.get_active_voices())


func test_engine_one_player_two_models() -> void:
	var p := offline_player([ONESHOTS, AMBIENCES])
	if p == null:
		return
	check(p.get_model_info().get("mode") == "step", "the model loaded last is current")
	check(p.start_ambience({"category": "rain", "intensity": 0.6}, 3), "start_ambience: %s" % p.get_last_error())
	var v: int = p.trigger({"category": "impact", "material": "wood", "velocity": 8.0}, 4)
	check(v != 0, "trigger next to an ambience: %s" % p.get_last_error())
	check(p.get_active_voices() == 2, "active voices %d (ambience + one-shot)" % p.get_active_voices())
	var x: PackedFloat32Array = p.render_offline(24000)
	check(x.size() == 48000 and stats(x).finite and stats(x).peak > 1e-3, "two models mixed: %s" % p.get_last_error())
	# Reloading the one-shot model replaces it and keeps the ambience model.
	check(p.load_model(ONESHOTS), "reload: %s" % p.get_last_error())
	check(p.start_ambience({}, 1), "the ambience model survived reloading the one-shot model: %s" % p.get_last_error())
	p.stop_all()


func test_engine_ambience_follows_controls_and_stop_fades() -> void:
	var p := offline_player([AMBIENCES])
	if p == null:
		return
	check(p.start_ambience({"category": "rain", "intensity": 1.0}, 5), "start_ambience: %s" % p.get_last_error())
	var amb: int = p.get_ambience_voice()
	check(amb != 0, "get_ambience_voice() is 0 while playing")
	var loud: PackedFloat32Array = p.render_offline(48000)
	check(p.set_ambience_controls({"intensity": 0.0}), "set_ambience_controls: %s" % p.get_last_error())
	var quiet: PackedFloat32Array = p.render_offline(48000)
	var rl: float = stereo_stats(loud, 12000).rms
	var rq: float = stereo_stats(quiet, 24000).rms  # after the 170 ms streamed ahead + glide
	print("     ambience rms: intensity 1.0 -> %f, 0.0 -> %f" % [rl, rq])
	check(stats(loud).finite and stats(quiet).finite, "non-finite ambience samples")
	check(rl > 1e-3, "intensity 1.0 rain is silent (rms %f)" % rl)
	check(rl > rq * 1.5, "intensity 0.0 (rms %f) is not clearly quieter than 1.0 (rms %f)" % [rq, rl])
	var ended: Array = []
	p.voice_finished.connect(func(id: int): ended.append(id))
	p.set_ambience_controls({"intensity": 1.0})
	p.render_offline(24000)
	p.stop_ambience(0.1)
	check(not p.is_ambience_playing(), "is_ambience_playing() after stop_ambience")
	var tail: PackedFloat32Array = p.render_offline(48000)
	var during: float = stereo_stats(tail, 0, 2400).peak
	var after: float = stereo_stats(tail, 24000).peak
	print("     stop_ambience(0.1): peak %f in the first 50 ms, %f after 0.5 s" % [during, after])
	check(after < 1e-6, "still sounding 0.5 s after stop_ambience(0.1): peak %f" % after)
	check(amb in ended, "voice_finished(%d) not emitted after the fade (got %s)" % [amb, ended])
	check(p.get_active_voices() == 0, "%d voices active after the fade" % p.get_active_voices())


func test_engine_bad_input_is_reported() -> void:
	var p := offline_player([ONESHOTS])
	if p == null:
		return
	check(p.trigger({"category": "impact"}, 1, 0.0, 5.0) == 0, "pan 5 accepted")
	expect_logged("pan")
	check(p.trigger({"colour": "red"}, 1) == 0, "unknown control accepted by trigger")
	expect_logged("unknown control 'colour'")
	check(p.stop_voice(123456789) == false, "stop_voice(unknown id) returned true")
	expect_logged("not playing")
	check(p.render_offline(0).is_empty(), "render_offline(0) returned samples")
	expect_logged("render_offline")
	check(p.start_ambience({}, 1) == false, "start_ambience without an ambience model accepted")
	expect_logged("no ambience model")
	var q := offline_player([AMBIENCES])
	if q == null:
		return
	check(q.trigger({}, 1) == 0, "trigger on an ambience-only player accepted")
	expect_logged("no one-shot model")
	q.stop_ambience(-1.0)
	expect_logged("fade")
	check(p.get_active_voices() == 0 and q.get_active_voices() == 0, "a refused call started a voice")


func test_engine_refuses_another_sample_rate() -> void:
	var p := offline_player([AMBIENCES])
	if p == null:
		return
	# A tiny 48 kHz one-shot model from the native tests' fuzz corpus, relabelled 24 kHz.
	var repo: String = runner.args.get("repo", "")
	var tiny := repo.path_join("native/tests/fuzz_corpus/model_vae_tiny.fkm")
	if repo == "" or not FileAccess.file_exists(tiny):
		skip("no --repo with native/tests/fuzz_corpus/model_vae_tiny.fkm")
		return
	var bytes := FileAccess.get_file_as_bytes(tiny)
	var needle := "\"sample_rate\":48000".to_ascii_buffer()
	var at := -1
	for i in range(bytes.size() - needle.size()):
		if bytes.slice(i, i + needle.size()) == needle:
			at = i
			break
	if not check(at >= 0, "no sample_rate 48000 in %s" % tiny):
		return
	bytes[at + needle.size() - 5] = "2".unicode_at(0)
	bytes[at + needle.size() - 4] = "4".unicode_at(0)
	# The header's checksum: FNV-1a 64 of every byte from offset 32 (native/src/model/format.hpp).
	var h := -3750763034362895579  # 0xcbf29ce484222325 as a signed int
	for i in range(32, bytes.size()):
		h = (h ^ bytes[i]) * 1099511628211  # wraps modulo 2^64
	bytes.encode_s64(24, h)
	var f := FileAccess.open("user://rate24k.fkm", FileAccess.WRITE)
	f.store_buffer(bytes)
	f.close()
	var q := offline_player([])
	if not check(q.load_model("user://rate24k.fkm"), "the relabelled model does not load alone: %s" % q.get_last_error()):
		return
	check(q.get_sample_rate() == 24000.0, "a lone 24 kHz model: engine at %f Hz" % q.get_sample_rate())
	check(p.load_model("user://rate24k.fkm") == false, "a 24 kHz model was accepted next to a 48 kHz one")
	expect_logged("sample rate")
	print("     %s" % p.get_last_error())
	# What was loaded stays loaded and playing works.
	check(p.get_sample_rate() == 48000.0, "sample rate %f after the refused load" % p.get_sample_rate())
	check(p.start_ambience({}, 1), "the ambience model after a refused load: %s" % p.get_last_error())
	p.stop_all()
