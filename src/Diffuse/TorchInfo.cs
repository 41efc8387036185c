using TorchSharp;

namespace Diffuse;

/// <summary>Facts about the loaded libtorch, used by the CLI's <c>info</c> command and the tests.</summary>
public static class TorchInfo
{
    /// <summary>Forces libtorch to load and returns a one-line description.</summary>
    public static string Describe() =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch threads {torch.get_num_threads()}, cuda {(torch.cuda.is_available() ? "yes" : "no")}";
}
