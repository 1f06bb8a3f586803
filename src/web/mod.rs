//! The browser shell: owns JS objects, holds no delivery logic.
