## A ball that reports its impacts (speed just before the contact, in m/s).
extends RigidBody2D

signal impact(ball: RigidBody2D, speed_mps: float)

const RADIUS := 14.0
const COLORS := {"wood": Color(0.6, 0.4, 0.2), "metal": Color(0.7, 0.7, 0.75),
		"glass": Color(0.6, 0.85, 0.95), "stone": Color(0.45, 0.45, 0.45),
		"plastic": Color(0.9, 0.3, 0.3)}

var kind := "wood"  # the impact material
var _speed := 0.0


func _ready() -> void:
	var shape := CollisionShape2D.new()
	shape.shape = CircleShape2D.new()
	shape.shape.radius = RADIUS
	add_child(shape)
	physics_material_override = PhysicsMaterial.new()
	physics_material_override.bounce = 0.45
	contact_monitor = true
	max_contacts_reported = 4
	body_entered.connect(func(_body: Node) -> void: impact.emit(self, _speed / 100.0))


func _physics_process(_delta: float) -> void:
	_speed = linear_velocity.length()  # before the next contact changes it


func _draw() -> void:
	draw_circle(Vector2.ZERO, RADIUS, COLORS.get(kind, Color.WHITE))
