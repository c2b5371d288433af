"""Extensions built on the core: ``athanor.ext.asyncio``."""
