"""The ticket domain: what happens to an inquiry once it is filed.

One module per action family (routing, staff actions, citizen actions, rating, timers) over a
shared ``Workflow`` context; every push and card is worded and addressed in ``notices``. This
package imports ``storage``, ``dialogs`` and ``adapters.base``, never ``bot`` (the runtime), so
the rules can be read and tested without a server.
"""
