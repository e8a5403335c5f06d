"""What the pages need from the engine, by topic, free of Streamlit so it can be tested and reused."""
