from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClusterStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClusterStatus(_message.Message):
    __slots__ = ("node_id", "leader_id", "term", "commit_index", "applied_index", "partition_count", "map_epoch", "model_version", "nodes", "partitions")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    COMMIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTITION_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAP_EPOCH_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    leader_id: int
    term: int
    commit_index: int
    applied_index: int
    partition_count: int
    map_epoch: int
    model_version: int
    nodes: _containers.RepeatedCompositeFieldContainer[NodeStatus]
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionStatus]
    def __init__(self, node_id: _Optional[int] = ..., leader_id: _Optional[int] = ..., term: _Optional[int] = ..., commit_index: _Optional[int] = ..., applied_index: _Optional[int] = ..., partition_count: _Optional[int] = ..., map_epoch: _Optional[int] = ..., model_version: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[NodeStatus, _Mapping]]] = ..., partitions: _Optional[_Iterable[_Union[PartitionStatus, _Mapping]]] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("node_id", "address", "role", "state", "term", "commit_index", "applied_index", "lag", "partitions", "records", "error", "internal_rpcs", "raft_messages")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    COMMIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_RPCS_FIELD_NUMBER: _ClassVar[int]
    RAFT_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    address: str
    role: str
    state: str
    term: int
    commit_index: int
    applied_index: int
    lag: int
    partitions: int
    records: int
    error: str
    internal_rpcs: int
    raft_messages: int
    def __init__(self, node_id: _Optional[int] = ..., address: _Optional[str] = ..., role: _Optional[str] = ..., state: _Optional[str] = ..., term: _Optional[int] = ..., commit_index: _Optional[int] = ..., applied_index: _Optional[int] = ..., lag: _Optional[int] = ..., partitions: _Optional[int] = ..., records: _Optional[int] = ..., error: _Optional[str] = ..., internal_rpcs: _Optional[int] = ..., raft_messages: _Optional[int] = ...) -> None: ...

class PartitionStatus(_message.Message):
    __slots__ = ("partition", "owner", "epoch", "records", "entities", "state")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    partition: int
    owner: int
    epoch: int
    records: int
    entities: int
    state: str
    def __init__(self, partition: _Optional[int] = ..., owner: _Optional[int] = ..., epoch: _Optional[int] = ..., records: _Optional[int] = ..., entities: _Optional[int] = ..., state: _Optional[str] = ...) -> None: ...

class AddNodeRequest(_message.Message):
    __slots__ = ("node_id", "address")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    address: str
    def __init__(self, node_id: _Optional[int] = ..., address: _Optional[str] = ...) -> None: ...

class RemoveNodeRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    def __init__(self, node_id: _Optional[int] = ...) -> None: ...

class MovePartitionRequest(_message.Message):
    __slots__ = ("partition", "to_node")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    TO_NODE_FIELD_NUMBER: _ClassVar[int]
    partition: int
    to_node: int
    def __init__(self, partition: _Optional[int] = ..., to_node: _Optional[int] = ...) -> None: ...

class RebalanceRequest(_message.Message):
    __slots__ = ("dry_run",)
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    def __init__(self, dry_run: _Optional[bool] = ...) -> None: ...

class PartitionMove(_message.Message):
    __slots__ = ("partition", "from_node", "to_node", "bytes", "seconds")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    FROM_NODE_FIELD_NUMBER: _ClassVar[int]
    TO_NODE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    partition: int
    from_node: int
    to_node: int
    bytes: int
    seconds: float
    def __init__(self, partition: _Optional[int] = ..., from_node: _Optional[int] = ..., to_node: _Optional[int] = ..., bytes: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class ClusterChange(_message.Message):
    __slots__ = ("moves", "message", "status")
    MOVES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    moves: _containers.RepeatedCompositeFieldContainer[PartitionMove]
    message: str
    status: ClusterStatus
    def __init__(self, moves: _Optional[_Iterable[_Union[PartitionMove, _Mapping]]] = ..., message: _Optional[str] = ..., status: _Optional[_Union[ClusterStatus, _Mapping]] = ...) -> None: ...
