## FoleyKit demo: every sound here is generated live by FoleyKit models.
##  - Footsteps: walk with the arrow keys; gravel on the left half, wood on the right; faster
##    walking steps harder.
##  - Impacts: click (or press Space) to drop a ball of a random material; each contact plays
##    an impact whose velocity is the ball's speed.
##  - Rain: the slider sets the rain's intensity while it plays.
## Headless check: godot --headless --path <demo> -- --selftest  (walks, drops balls, moves the
## slider for a few seconds, prints "demo: ..." and exits non-zero if a sound failed).
extends Node2D

const ONESHOTS := "res://models/oneshots.fkm"
const AMBIENCES := "res://models/ambiences.fkm"
const FLOOR_Y := 470.0
const WIDTH := 960.0
const WALK_SPEED := 260.0  # px/s; 100 px = 1 m
const MATERIALS := ["wood", "metal", "glass", "stone", "plastic"]
const Ball := preload("res://ball.gd")

var steps: FoleyKitPlayer
var impacts: FoleyKitPlayer
var rain: FoleyKitPlayer
var slider: HSlider
var status: Label
var walker := Vector2(200, FLOOR_Y)
var _step_timer := 0.0
var _step_count := 0
var _impact_count := 0
var _errors: Array[String] = []
var _selftest := "--selftest" in OS.get_cmdline_user_args()
var _time := 0.0


func _ready() -> void:
	steps = _player(ONESHOTS)
	impacts = _player(ONESHOTS)
	rain = _player(AMBIENCES)
	if rain.is_model_loaded() and not rain.start_ambience({"category": "rain", "intensity": 0.4}, 1):
		_errors.append(rain.get_last_error())
	_build_world()
	_build_ui()


func _player(path: String) -> FoleyKitPlayer:
	var p := FoleyKitPlayer.new()
	add_child(p)
	if not p.load_model(path):  # the reason is in Godot's error log too
		_errors.append(p.get_last_error())
	return p


func _build_world() -> void:
	var ground := StaticBody2D.new()
	for seg in [[Vector2(0, FLOOR_Y), Vector2(WIDTH, FLOOR_Y)], [Vector2(0, 0), Vector2(0, FLOOR_Y)],
			[Vector2(WIDTH, 0), Vector2(WIDTH, FLOOR_Y)]]:
		var shape := CollisionShape2D.new()
		shape.shape = SegmentShape2D.new()
		shape.shape.a = seg[0]
		shape.shape.b = seg[1]
		ground.add_child(shape)
	add_child(ground)


func _build_ui() -> void:
	var ui := CanvasLayer.new()
	add_child(ui)
	var box := VBoxContainer.new()
	box.position = Vector2(16, 12)
	ui.add_child(box)
	var help := Label.new()
	help.text = "Arrows: walk (gravel | wood)    Click / Space: drop a ball    Slider: rain"
	box.add_child(help)
	slider = HSlider.new()
	slider.min_value = 0.0
	slider.max_value = 1.0
	slider.step = 0.01
	slider.value = 0.4
	slider.custom_minimum_size = Vector2(300, 24)
	slider.value_changed.connect(_on_rain_changed)
	box.add_child(slider)
	status = Label.new()
	box.add_child(status)


func _on_rain_changed(value: float) -> void:
	if rain.is_ambience_playing() and not rain.set_ambience_controls({"intensity": value}):
		_errors.append(rain.get_last_error())


func drop_ball(at: Vector2) -> void:
	var ball: RigidBody2D = Ball.new()
	ball.kind = MATERIALS[randi() % MATERIALS.size()]
	ball.position = at
	ball.impact.connect(_on_impact)
	add_child(ball)


## Stereo position of a point of the world: -1 left .. 1 right.
func _pan(x: float) -> float:
	return clampf(x / WIDTH * 2.0 - 1.0, -1.0, 1.0) * 0.8


func _on_impact(ball: RigidBody2D, speed_mps: float) -> void:
	if speed_mps < 0.3:  # resting contacts
		return
	var velocity := clampf(speed_mps, 0.2, 10.0)
	# trigger() returns the engine's voice id (0 when refused); pan follows the ball.
	if impacts.trigger({"category": "impact", "material": ball.kind, "velocity": velocity},
			randi(), 0.0, _pan(ball.position.x)) != 0:
		_impact_count += 1
	else:
		_errors.append(impacts.get_last_error())


func _process(delta: float) -> void:
	_time += delta
	var dir := Input.get_axis("ui_left", "ui_right")
	if _selftest:
		dir = 1.0 if _time < 1.5 else -1.0
		_selftest_script()
	walker.x = clampf(walker.x + dir * WALK_SPEED * delta, 20.0, WIDTH - 20.0)
	if dir != 0.0:
		_step_timer -= delta
		if _step_timer <= 0.0:
			_step_timer = 1.0 / 2.2  # steps per second
			var surface := "gravel" if walker.x < WIDTH / 2.0 else "wood"
			var force := clampf(0.4 + 0.2 * absf(dir) * WALK_SPEED / 200.0, 0.0, 1.0)
			if steps.trigger({"category": "footstep", "surface": surface, "force": force,
					"pace": 2.2}, randi(), -3.0, _pan(walker.x)) != 0:
				_step_count += 1
			else:
				_errors.append(steps.get_last_error())
	else:
		_step_timer = 0.0
	status.text = "footsteps %d   impacts %d   rain %.2f   %s" % [_step_count, _impact_count,
			slider.value, ("errors: %d" % _errors.size()) if _errors else ""]
	queue_redraw()


func _unhandled_input(event: InputEvent) -> void:
	if event is InputEventMouseButton and event.pressed and event.button_index == MOUSE_BUTTON_LEFT:
		drop_ball(Vector2(clampf(event.position.x, 30, WIDTH - 30), 60))
	elif event.is_action_pressed("ui_accept"):
		drop_ball(Vector2(randf_range(60, WIDTH - 60), 60))


func _draw() -> void:
	draw_rect(Rect2(0, FLOOR_Y, WIDTH / 2.0, 70), Color(0.45, 0.4, 0.35))  # gravel
	draw_rect(Rect2(WIDTH / 2.0, FLOOR_Y, WIDTH / 2.0, 70), Color(0.55, 0.38, 0.2))  # wood
	draw_rect(Rect2(walker.x - 10, FLOOR_Y - 48, 20, 48), Color(0.2, 0.5, 0.9))


var _dropped := 0


func _selftest_script() -> void:
	if _dropped < 3 and _time > 0.2 + 0.4 * _dropped:
		drop_ball(Vector2(200 + 250 * _dropped, 80))
		_dropped += 1
	if _time > 1.8 and slider.value < 0.9:
		slider.value = 0.9
	if _time > 3.5:
		var ok := _errors.is_empty() and _step_count > 0 and _impact_count > 0 \
				and rain.is_ambience_playing() and rain.get_frames_pushed() > 0
		print("demo: %d footsteps, %d impacts, rain %d frames pushed, %d errors%s" % [_step_count,
				_impact_count, rain.get_frames_pushed(), _errors.size(),
				"" if _errors.is_empty() else ": " + "; ".join(_errors)])
		get_tree().quit(0 if ok else 1)
		_selftest = false
