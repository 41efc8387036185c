using Diffuse.Sampling;
using TorchSharp;

namespace Diffuse.Tests.Sampling;

/// <summary>The fixed inputs of diffusers' scheduler tests (shared/reference/scheduler-vectors.md).</summary>
internal static class ReferenceInputs
{
    private const int B = 4, C = 3, H = 8, W = 8, N = B * C * H * W;

    /// <summary>sample_deter[b, c, h, w] = (c*256 + h*32 + w*4 + b) / 768.</summary>
    public static torch.Tensor SampleDeter() =>
        torch.arange(N, torch.float32).reshape(C, H, W, B).div(N).permute(3, 0, 1, 2);

    /// <summary>noise_deter[b, c, h, w] = (767 - (c*256 + h*32 + w*4 + b)) / 768.</summary>
    public static torch.Tensor NoiseDeter() =>
        torch.arange(N, torch.float32).flip(0).reshape(C, H, W, B).div(N).permute(3, 0, 1, 2);

    /// <summary>The dummy model: x * t / (t + 1).</summary>
    public static torch.Tensor Model(torch.Tensor x, long t) => x * t / (t + 1);

    /// <summary>Loop A: every timestep of a run of <paramref name="steps"/> steps, each in its own dispose scope.</summary>
    public static torch.Tensor LoopA(IScheduler scheduler, int steps, torch.Tensor x, torch.Generator? generator, long[]? only = null)
    {
        var run = scheduler.Begin(steps);
        foreach (var t in only ?? run.Timesteps.data<long>().ToArray())
        {
            using var scope = torch.NewDisposeScope();
            using var tensorT = torch.tensor(t);
            x = run.Step(Model(run.ScaleModelInput(x, tensorT), t), tensorT, x, generator).PrevSample.MoveToOuterDisposeScope();
        }
        return x;
    }

    public static (double Sum, double Mean) SumMeanAbs(torch.Tensor x)
    {
        using var abs = x.abs();
        return (abs.sum().item<float>(), abs.mean().item<float>());
    }
}
