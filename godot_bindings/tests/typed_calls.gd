## Calls FoleyKitPlayer through static types, so GDScript compiles them to validated calls,
## which reach the extension's ptrcall path (the untyped tests exercise the Variant call path).
## Loaded at run time by test_foleykit.gd: a missing class then fails that test, not the parse.
extends RefCounted


func run(root: Node, oneshots: String) -> Array[String]:
	var f: Array[String] = []
	var p: FoleyKitPlayer = FoleyKitPlayer.new()
	root.add_child(p)
	var v: String = p.version()
	if v.count(".") != 2:
		f.append("typed version() = '%s'" % v)
	var runtime: bool = p.has_model_runtime()
	var loaded: bool = p.is_model_loaded()
	if loaded:
		f.append("typed is_model_loaded() true before loading")
	p.latency = 0.07
	var lat: float = p.latency
	if not is_equal_approx(lat, 0.07):
		f.append("typed latency %f" % lat)
	var pl: Node = p.get_player()
	if not (pl is AudioStreamPlayer):
		f.append("typed get_player() = %s" % pl)
	var err: String = p.get_last_error()
	if err != "":
		f.append("typed get_last_error() = '%s' before any error" % err)
	if runtime and FileAccess.file_exists(oneshots):
		var ok: bool = p.load_model(oneshots)
		if not ok:
			f.append("typed load_model: %s" % p.get_last_error())
			p.free()
			return f
		var controls: Array = p.get_controls()
		var info: Dictionary = p.get_model_info()
		if controls.size() != int(info.get("control_count", -1)):
			f.append("typed get_controls/get_model_info disagree")
		var rate: float = p.get_sample_rate()
		if not is_equal_approx(rate, 48000.0):
			f.append("typed get_sample_rate() = %f" % rate)
		var a: PackedFloat32Array = p.render_one_shot({"category": "impact", "velocity": 5.0}, 3)
		var b: PackedFloat32Array = p.render_one_shot({"category": "impact", "velocity": 5.0}, 3)
		if a.is_empty() or a != b:
			f.append("typed render_one_shot: %d samples, deterministic %s" % [a.size(), a == b])
		var c: PackedFloat32Array = p.render_one_shot()  # defaults: {} and seed 0
		if c.is_empty():
			f.append("typed render_one_shot() with default arguments gave nothing")
		var played: bool = p.play_one_shot({"category": "door", "door.action": "creak"})
		if not played:
			f.append("typed play_one_shot with default seed/volume: %s" % p.get_last_error())
		var pushed: int = p.fill()
		var voices: int = p.get_active_voices()
		if voices < 1:
			f.append("typed get_active_voices() = %d after play (fill pushed %d)" % [voices, pushed])
		var total: int = p.get_frames_pushed()
		if total <= 0:
			f.append("typed get_frames_pushed() = %d" % total)
		var id: int = p.trigger({"category": "impact"}, 5, -3.0, -0.5)
		if id == 0:
			f.append("typed trigger: %s" % p.get_last_error())
		var id2: int = p.trigger()  # defaults: {}, 0, 0 dB, centre
		if id2 == 0 or id2 == id:
			f.append("typed trigger() with default arguments: %d (%s)" % [id2, p.get_last_error()])
		var stopped: bool = p.stop_voice(id2)
		if not stopped:
			f.append("typed stop_voice: %s" % p.get_last_error())
		var amb_id: int = p.get_ambience_voice()
		if amb_id != 0:
			f.append("typed get_ambience_voice() = %d without an ambience" % amb_id)
		p.stop_ambience(0.2)  # no ambience: nothing to do, no error
		var same: bool = p.set_output_player(null)
		if not same:
			f.append("typed set_output_player(null) refused")
		p.stop_all()
		p.unload_model()
		if p.is_model_loaded():
			f.append("typed unload_model() kept the model")
	p.free()
	return f
