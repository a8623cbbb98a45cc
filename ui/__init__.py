"""Drawing code shared by the pages: page setup, the sidebar, status banners and number formats."""
