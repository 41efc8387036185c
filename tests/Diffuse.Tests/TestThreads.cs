using System.Runtime.CompilerServices;
using TorchSharp;

namespace Diffuse.Tests;

static class TestThreads
{
    /// <summary>
    /// One libtorch thread: with xunit's parallel test classes libtorch's own pool oversubscribed the
    /// cores (its OpenMP workers spin while they wait), which made the suite several times slower.
    /// Test classes now run one at a time (xunit.runner.json) because of a TorchSharp 0.107 race:
    /// a <c>Scalar</c> made implicitly from a number (<c>x * 0.5</c>) is freed by its finalizer, and a
    /// garbage collection triggered by another thread while a native call still reads it corrupts
    /// that call ("INTERNAL ASSERT FAILED ... Scalar.h"; dotnet/TorchSharp PR #1434). Parallel classes
    /// hit it in about one full run in five.
    /// </summary>
    [ModuleInitializer]
    internal static void OneTorchThreadPerTest() => torch.set_num_threads(1);
}
