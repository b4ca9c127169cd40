import sys

from chat_ui.launch import main

sys.exit(main())
