//! The sans-IO delivery core. Nothing in here touches the browser.
