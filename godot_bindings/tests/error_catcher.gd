## Collects what reaches Godot's error log (Godot 4.5+: OS.add_logger), so tests can check
## that bad input is reported as an error, and that nothing else is.
extends Logger

var _mutex := Mutex.new()
var _errors: Array[Dictionary] = []


func _log_error(function: String, file: String, line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
	if error_type == ERROR_TYPE_WARNING:
		return
	_mutex.lock()
	_errors.append({"text": "%s %s" % [code, rationale], "where": "%s (%s:%d)" % [function, file, line],
			"script": error_type == ERROR_TYPE_SCRIPT})
	_mutex.unlock()


func _log_message(_message: String, _error: bool) -> void:
	pass


## Removes and returns everything logged so far.
func take() -> Array[Dictionary]:
	_mutex.lock()
	var out := _errors.duplicate()
	_errors.clear()
	_mutex.unlock()
	return out
