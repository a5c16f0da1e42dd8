"""A narrow, typed face on wechatpy's signing and 安全模式 (AES) code.

wechatpy is untyped; everything the channel needs from it goes through these few functions, so
the rest of the adapter stays checked. Signatures are computed with wechatpy but compared here
with ``hmac.compare_digest``: wechatpy's own ``check_signature`` and ``decrypt_message`` compare
with ``!=``, which leaks through timing how much of a forged signature was right.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import WeChatException
from wechatpy.utils import WeChatSigner


class CryptoError(ValueError):
    """An encrypted body that does not decrypt to a message for this account."""


def signature(*parts: str) -> str:
    """WeChat's SHA-1 over the sorted parts (token, timestamp, nonce[, encrypted body])."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key behind the 43-character EncodingAESKey; ValueError when it is not one."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


class SafeMode:
    """安全模式: bodies are AES-encrypted with the account's EncodingAESKey and signed with the token."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self._key = aes_key(encoding_aes_key)
        self._token = token
        self._app_id = app_id
        self._envelope = WeChatCrypto(token, encoding_aes_key, app_id)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> bool:
        return signature_matches(signature(self._token, timestamp, nonce, encrypted), msg_signature)

    def decrypt(self, encrypted: str) -> str:
        """The plain XML inside ``encrypted`` (whose signature was checked first)."""
        try:
            return str(PrpCrypto(self._key).decrypt(encrypted, self._app_id))
        except (ValueError, TypeError, IndexError, struct.error, WeChatException) as exc:
            raise CryptoError(f"cannot decrypt the message ({type(exc).__name__})") from exc

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """The reply envelope WeChat expects in safe mode: Encrypt, MsgSignature, TimeStamp, Nonce."""
        return str(self._envelope.encrypt_message(xml, nonce, timestamp))
