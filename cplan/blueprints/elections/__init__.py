"""Elections and their phases; sensitive places; contacts' election marks."""
