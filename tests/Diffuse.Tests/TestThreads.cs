using System.Runtime.CompilerServices;
using TorchSharp;

namespace Diffuse.Tests;

static class TestThreads
{
    /// <summary>
    /// xunit already runs test classes in parallel, one per core; libtorch's own thread pool on top
    /// of that oversubscribes the cores (its OpenMP workers spin while they wait), which made the
    /// suite several times slower. One libtorch thread per test keeps every core busy with useful work.
    /// </summary>
    [ModuleInitializer]
    internal static void OneTorchThreadPerTest() => torch.set_num_threads(1);
}
