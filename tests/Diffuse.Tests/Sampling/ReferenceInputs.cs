using Diffuse.Configuration;
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

    /// <summary>The dummy model: x * t / (t + 1), t the scheduler's timestep (fractional for sigma-based runs).</summary>
    public static torch.Tensor Model(torch.Tensor x, double t) => x * t / (float)(t + 1);

    /// <summary>Loop A: every timestep of a run of <paramref name="steps"/> steps, each in its own dispose scope.</summary>
    public static torch.Tensor LoopA(IScheduler scheduler, int steps, torch.Tensor x, torch.Generator? generator, long[]? only = null) =>
        Loop(scheduler, steps, x, generator, stepScaled: false, only);

    /// <summary>
    /// Loop B of the sigma-based schedulers' tests: x = sample * init_noise_sigma, and the *scaled* sample is what
    /// goes to step (as diffusers' tests do; pipelines pass the unscaled one).
    /// </summary>
    /// <summary>Loop A over <paramref name="steps"/> steps of the named scheduler from sample_deter, with no generator.</summary>
    public static torch.Tensor DeterministicLoopA(string scheduler, SchedulerConfig config, int steps = 10) =>
        LoopA(Schedulers.Create(scheduler, config), steps, SampleDeter(), generator: null);

    /// <inheritdoc cref="DeterministicLoopA(string, SchedulerConfig, int)"/>
    public static torch.Tensor DeterministicLoopA(string scheduler, string configJson, int steps = 10) =>
        DeterministicLoopA(scheduler, SchedulerConfig.FromJson(configJson), steps);

    public static torch.Tensor LoopB(IScheduler scheduler, int steps, torch.Tensor x, torch.Generator? generator) =>
        Loop(scheduler, steps, x, generator, stepScaled: true);

    private static torch.Tensor Loop(IScheduler scheduler, int steps, torch.Tensor x, torch.Generator? generator, bool stepScaled, long[]? only = null)
    {
        var run = scheduler.Begin(steps);
        if (stepScaled) x = x * run.InitNoiseSigma;
        double[] timesteps;
        using (var asDouble = run.Timesteps.to_type(torch.float64)) timesteps = asDouble.data<double>().ToArray();
        for (var i = 0; i < (only?.Length ?? timesteps.Length); i++)
        {
            using var scope = torch.NewDisposeScope();
            var t = only is null ? run.Timesteps[i] : torch.tensor(only[i]);
            var value = only is null ? timesteps[i] : only[i];
            var scaled = run.ScaleModelInput(x, t);
            x = run.Step(Model(scaled, value), t, stepScaled ? scaled : x, generator).PrevSample.MoveToOuterDisposeScope();
        }
        return x;
    }

    /// <summary>
    /// diffusers' <c>test_full_loop_with_noise</c> (img2img): ts = timesteps[t_start * order:], x = add_noise(x_init,
    /// noise_deter, ts[:1]) through the scheduler, then loop A (or B, <paramref name="sigmaLoop"/>, from
    /// x_init = sample_deter * init_noise_sigma) over ts in the same run.
    /// </summary>
    public static torch.Tensor LoopWithNoise(IScheduler scheduler, int steps, int tStart, bool sigmaLoop, torch.Generator? generator,
        torch.Tensor? sample = null, torch.Tensor? noise = null)
    {
        var run = scheduler.Begin(steps);
        var x = (sample ?? SampleDeter()) * (sigmaLoop ? run.InitNoiseSigma : 1.0);
        var ts = run.Timesteps[(tStart * run.Order)..];
        x = scheduler.AddNoise(x, noise ?? NoiseDeter(), ts[..1]);
        double[] values;
        using (var asDouble = ts.to_type(torch.float64)) values = asDouble.data<double>().ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            var scaled = run.ScaleModelInput(x, ts[i]);
            x = run.Step(Model(scaled, values[i]), ts[i], sigmaLoop ? scaled : x, generator).PrevSample.MoveToOuterDisposeScope();
        }
        return x;
    }

    public static (double Sum, double Mean) SumMeanAbs(torch.Tensor x)
    {
        using var abs = x.abs();
        return (abs.sum().item<float>(), abs.mean().item<float>());
    }
}
