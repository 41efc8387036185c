using TorchSharp;

namespace Diffuse;

/// <summary>Where tensors live: the CPU, or a CUDA GPU when the build links TorchSharp's CUDA backend.</summary>
public enum DeviceChoice
{
    /// <summary><c>auto</c>: CUDA when <c>torch.cuda.is_available()</c>, else the CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}

/// <summary>
/// The process-wide compute settings behind the CLI's <c>--device</c> and <c>--threads</c>: the chosen device becomes
/// libtorch's default, so that every network and tensor created without an explicit device goes there (the noise is
/// still drawn on the CPU and moved, see <see cref="Process.Noise"/>, so seeds give the same images on every device).
/// </summary>
public static class ComputeDevice
{
    /// <summary>The device a choice stands for on this build and machine; CUDA where it is missing is a <see cref="DiffuseException"/>.</summary>
    public static DeviceType Resolve(DeviceChoice choice, Func<bool>? cudaAvailable = null)
    {
        if (choice == DeviceChoice.Cpu) return DeviceType.CPU;
        bool cuda = (cudaAvailable ?? torch.cuda.is_available)();
        return choice switch
        {
            DeviceChoice.Auto => cuda ? DeviceType.CUDA : DeviceType.CPU,
            DeviceChoice.Cuda when cuda => DeviceType.CUDA,
            DeviceChoice.Cuda => throw new DiffuseException(
                "--device cuda: CUDA is not available (this build links TorchSharp-cpu, or no NVIDIA GPU and driver were found); build with -p:TorchBackend=cuda on a machine with CUDA, or use --device cpu"),
            _ => throw new ArgumentOutOfRangeException(nameof(choice)),
        };
    }

    /// <summary>Makes <paramref name="device"/> (its first GPU for CUDA) libtorch's default device for tensors and networks created from now on.</summary>
    public static void Use(DeviceType device) => torch.set_default_device(new torch.Device(device, device == DeviceType.CPU ? -1 : 0));

    /// <summary>The most intra-op threads <see cref="SetThreads"/> accepts: 4 per logical core (more only slows libtorch
    /// down, and tens of thousands of threads take a machine down).</summary>
    public static int MaxThreads => 4 * Environment.ProcessorCount;

    /// <summary>Sets libtorch's intra-op thread count (1 to <see cref="MaxThreads"/>).</summary>
    public static void SetThreads(int threads)
    {
        if (threads < 1) throw new DiffuseException($"threads must be at least 1, got {threads}");
        if (threads > MaxThreads) throw new DiffuseException($"threads must be at most {MaxThreads} (4 per logical core), got {threads}");
        torch.set_num_threads(threads);
    }
}
