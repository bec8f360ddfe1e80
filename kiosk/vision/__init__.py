"""Computer vision on image arrays (pure functions, no Flask). Heavy models load lazily."""
