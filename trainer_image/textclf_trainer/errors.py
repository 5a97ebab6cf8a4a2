"""Failures the trainer knows how to name, and the exit code each one leaves with.

A ``UserError`` carries a detail code of ``textclf.api.codes`` (bad data, bad params, a batch too big for
the GPU): the Job must fail at once. An ``InfrastructureError`` (storage or network IO) may be retried.
Anything else that escapes is an internal error (exit 1). ``entrypoint`` maps these to exit codes.
"""

from __future__ import annotations

from textclf.api import codes


class TrainerError(Exception):
    """Base of the failures the trainer reports with a code."""

    detail: codes.DetailCode = codes.DetailCode.INTERNAL_ERROR
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(TrainerError):
    """The user must change the data or the params; retrying cannot help."""

    def __init__(self, detail: codes.DetailCode, message: str) -> None:
        super().__init__(message)
        if detail not in codes.EXIT_CODE_FOR_DETAIL:
            raise ValueError(f"{detail} is not a user error")
        self.detail = detail
        self.exit_code = int(codes.EXIT_CODE_FOR_DETAIL[detail])


class InfrastructureError(TrainerError):
    """Storage, network or device trouble: the run may succeed if retried."""

    detail = codes.DetailCode.INTERNAL_ERROR
    exit_code = int(codes.ExitCode.INFRASTRUCTURE)


def no_data(message: str) -> UserError:
    return UserError(codes.DetailCode.NO_DATA, message)


def insufficient_data(message: str) -> UserError:
    return UserError(codes.DetailCode.INSUFFICIENT_DATA, message)


def invalid_params(message: str) -> UserError:
    return UserError(codes.DetailCode.INVALID_PARAMS, message)


def data_unreadable(message: str) -> UserError:
    return UserError(codes.DetailCode.DATA_UNREADABLE, message)


def tolerance_exceeded(message: str) -> UserError:
    return UserError(codes.DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED, message)


def data_leakage(message: str) -> UserError:
    return UserError(codes.DetailCode.DATA_LEAKAGE, message)
