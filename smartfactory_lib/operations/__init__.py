"""Operations: how the running system and its book are watched and reported."""
