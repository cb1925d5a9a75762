"""Parking (智慧停车): car parks, tariffs, member parking benefits, sessions from the car-park system, exits."""
