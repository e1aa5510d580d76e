"""`humanverse export`: a trained run as folders that diffusers users load without humanverse."""
