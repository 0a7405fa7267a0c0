## Headless GDScript test runner for FoleyKit's Godot extension.
##
##   godot --headless --path <build>/godot_bindings/tests --script res://run_tests.gd -- \
##         [--expect-version=0.1.0] [--repo=/path/to/foleykit] [--only=substring]
##
## Runs every test_* method of res://test_foleykit.gd in declaration order (they may await),
## prints one line per test (PASS / FAIL / SKIP), then "godot: N passed, M failed, K skipped"
## and quits with exit code 0 only when nothing failed and at least one test passed.
## Errors that reach Godot's log during a test and that the test did not expect fail it
## (Godot 4.5+, through OS.add_logger). A test that hangs trips a global timeout (exit 2).
extends SceneTree

const TIMEOUT_S := 300.0

var catcher = null  # error_catcher.gd, or null before Godot 4.5 (no OS.add_logger)
var args := {}
var _passed := 0
var _failed := 0
var _skipped := 0
var _failures: Array[String] = []


func _initialize() -> void:
	for a in OS.get_cmdline_user_args():
		if a.begins_with("--"):
			var kv := a.substr(2).split("=", true, 1)
			args[kv[0]] = kv[1] if kv.size() > 1 else "true"
	if ClassDB.class_exists("Logger") and OS.has_method("add_logger"):
		catcher = load("res://error_catcher.gd").new()
		OS.add_logger(catcher)
	create_timer(TIMEOUT_S).timeout.connect(_on_timeout)
	_run.call_deferred()


func _on_timeout() -> void:
	print("FAIL: the test run did not finish within %d s (a test hangs?)" % TIMEOUT_S)
	print("godot: %d passed, %d failed, %d skipped" % [_passed, _failed + 1, _skipped])
	quit(2)


func _run() -> void:
	print("FoleyKit Godot tests on %s" % Engine.get_version_info().string)
	if catcher == null:
		print("note: this Godot has no OS.add_logger (4.5+): error-log checks are skipped")
	var suite = load("res://test_foleykit.gd").new()
	suite.runner = self
	var names: Array[String] = []
	for m in suite.get_method_list():
		if String(m.name).begins_with("test_") and not names.has(m.name):
			names.append(m.name)
	var only: String = args.get("only", "")
	for test_name in names:
		if only != "" and not test_name.contains(only):
			continue
		if catcher:
			catcher.take()
		suite.begin(test_name)
		var t0 := Time.get_ticks_msec()
		await Callable(suite, test_name).call()
		if catcher:
			for e in catcher.take():
				suite.unexpected_error(e)
		var ms := Time.get_ticks_msec() - t0
		suite.finish()
		if suite.failures.size() > 0:
			_failed += 1
			print("FAIL %s (%d ms)" % [test_name, ms])
			for f in suite.failures:
				print("     - %s" % f)
			_failures.append(test_name)
		elif suite.skip_reason != "":
			_skipped += 1
			print("SKIP %s: %s" % [test_name, suite.skip_reason])
		else:
			_passed += 1
			print("PASS %s (%d ms)" % [test_name, ms])
	if _failures.size() > 0:
		print("failed: %s" % ", ".join(_failures))
	print("godot: %d passed, %d failed, %d skipped" % [_passed, _failed, _skipped])
	quit(0 if _failed == 0 and _passed > 0 else 1)
