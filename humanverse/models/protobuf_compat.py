"""MediaPipe's compiled bindings call `MessageFactory.GetPrototype`, which protobuf 5 removed (the same
class comes from `message_factory.GetMessageClass`). On import they print
"AttributeError: 'MessageFactory' object has no attribute 'GetPrototype'" and go on: an error that is not
one, on every run. Giving the old name back, as the one-line alias protobuf itself used to ship, before
mediapipe is imported, keeps the message from being printed at all."""

from __future__ import annotations


def restore_get_prototype() -> None:
    from google.protobuf import message_factory

    if not hasattr(message_factory.MessageFactory, "GetPrototype"):
        message_factory.MessageFactory.GetPrototype = (
            lambda self, descriptor: message_factory.GetMessageClass(descriptor))
