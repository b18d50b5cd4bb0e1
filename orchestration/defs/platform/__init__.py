"""Resources shared by every domain: AWS clients configured from the environment and the stack's names."""
