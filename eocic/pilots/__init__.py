"""The EOCIC pilot regions in industrial transition: profiles and an event-study template."""
