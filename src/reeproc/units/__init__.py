"""Unit operations (roasting, leaching, precipitation, solid-liquid separation, calcination)."""
