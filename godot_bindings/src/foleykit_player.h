/* FoleyKitPlayer (a Node): see foleykit_player.c. */
#ifndef FOLEYKIT_GODOT_PLAYER_H
#define FOLEYKIT_GODOT_PLAYER_H

#include <stdbool.h>

/* Registers the class, its methods and properties (at the SCENE initialization level). */
bool fkgd_player_register(void);
void fkgd_player_unregister(void);

#endif
