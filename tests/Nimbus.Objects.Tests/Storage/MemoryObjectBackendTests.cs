using Nimbus.Objects.Storage;

namespace Nimbus.Objects.Tests.Storage;

public sealed class MemoryObjectBackendTests : ObjectBackendConformance
{
    protected override IObjectBackend CreateBackend(TimeProvider time) => new MemoryObjectBackend(time);
}
