"""The live side of the console: engine events brought onto the Qt thread, background work for
the live views (camera view, stage overlays), alarms, and the panels that show the running engine."""
