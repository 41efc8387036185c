using Diffuse.Configuration;
namespace Diffuse.Training;

/// <summary>Learning-rate schedules as pure functions of the step, so that a resumed run follows the same curve.</summary>
public static class LearningRate
{
    /// <summary>Linear warmup over <paramref name="warmup"/> steps, then cosine decay to 10% of the peak at <paramref name="total"/>.</summary>
    public static double WarmupCosine(int step, int total, int warmup, double peak)
    {
        if (warmup > 0 && step < warmup) return peak * (step + 1) / warmup;
        double progress = total <= warmup ? 1.0 : Math.Clamp((double)(step - warmup) / (total - warmup), 0.0, 1.0);
        return peak * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>Linear warmup over <paramref name="warmup"/> steps, then the peak.</summary>
    public static double WarmupConstant(int step, int warmup, double peak) =>
        warmup > 0 && step < warmup ? peak * (step + 1) / warmup : peak;

    /// <summary>The learning rate of 0-based <paramref name="step"/> under <paramref name="schedule"/>.</summary>
    public static double At(LrSchedule schedule, int step, int total, int warmup, double peak) => schedule switch
    {
        LrSchedule.Constant => WarmupConstant(step, warmup, peak),
        _ => WarmupCosine(step, total, warmup, peak),
    };
}
